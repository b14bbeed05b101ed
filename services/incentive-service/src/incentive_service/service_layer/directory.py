"""Our copies of goal-service's org tree, people and goals (newest version
only): who a plan applies to, their quota, their team and its goal, and the
process goals a scorecard reads. A changed quota or team goal prices the
statements it touches again."""

from collections.abc import Collection
from datetime import date
from typing import NamedTuple

from attain_contracts import (
    CalendarUpdated,
    GoalArchived,
    GoalUpserted,
    OrgUnitUpserted,
    Period,
    PersonUpserted,
)
from attain_contracts.calendar import FiscalCalendar
from incentive_service.service_layer import Uow
from incentive_service.service_layer.plan_periods import PLAN_GRAINS, statement_periods
from servicekit.clock import local_day
from servicekit.db import newest_versions


async def apply_org_units(
    uow: Uow, calendar: FiscalCalendar, events: list[OrgUnitUpserted]
) -> None:
    """A unit whose manager changed changes who is a manager (and so which plan
    applies to them) and, where a plan pays a team bonus, who of its members
    shares it: the open statements of the old and new manager, and of the
    unit's members then, are priced again."""
    store = uow.store
    before = await store.org.units({e.org_unit_id for e in events})
    held = {unit_id: unit.manager_id for unit_id, unit in before.items()}
    applied = await store.org.apply_units(events)
    if not applied.changed:
        return
    after = await store.org.units(applied.changed)
    moved = [
        (unit_id, held.get(unit_id), unit.manager_id)
        for unit_id, unit in after.items()
        if unit.manager_id != held.get(unit_id)
    ]
    if not moved:
        return
    people = {manager for _, old, new in moved for manager in (old, new) if manager}
    today = local_day(uow.clock.now(), calendar.timezone)
    if await store.plans.any_team_bonus():
        members = await store.org.members_of([unit_id for unit_id, _, _ in moved], today)
        people.update(person for team in members.values() for person in team)
    await reprice_open(uow, calendar, people, today)


async def reprice_open(
    uow: Uow, calendar: FiscalCalendar, people: Collection[str], today: date
) -> None:
    """Queue these people's open statements, and their statements of the
    current month, quarter and year unless closed, to be priced again."""
    if not people:
        return
    store = uow.store
    closed = await store.periods.closed()
    current = [
        key
        for grain in PLAN_GRAINS
        if (key := calendar.containing(today, grain).key) and key not in closed
    ]
    keys = set(await store.statements.open_of(people))
    keys.update((person, key) for person in people for key in current)
    await store.queue.enqueue(keys)


async def apply_people(uow: Uow, calendar: FiscalCalendar, events: list[PersonUpserted]) -> None:
    """A person placed or moved may now fall under another plan or team: their
    statements are priced again for every period they have credits in."""
    store = uow.store
    marked = {p.id: p.carries_quota for p in await store.org.people({e.person_id for e in events})}
    changed = (await store.org.apply_people(events)).changed
    if changed:
        await store.queue.enqueue(
            {
                (person_id, period.key or "")
                for person_id, month in await store.credits.credited_months(changed)
                for period in statement_periods(calendar, month)
            },
        )
    # Whether someone carries a quota decides who shares their team's bonus.
    flagged = [p.id for p in await store.org.people(changed) if p.carries_quota != marked.get(p.id)]
    if flagged and await store.plans.any_team_bonus():
        today = local_day(uow.clock.now(), calendar.timezone)
        units = {
            m.org_unit_id
            for held in (await store.org.memberships(flagged)).values()
            for m in held
            if m.valid_from <= today and (m.valid_to is None or m.valid_to > today)
        }
        members = await store.org.members_of(units, today)
        await reprice_open(
            uow, calendar, {p for team in members.values() for p in team} | set(flagged), today
        )


async def apply_goals(uow: Uow, calendar: FiscalCalendar, events: list[GoalUpserted]) -> None:
    rows = newest_versions(
        (
            {
                "goal_id": e.goal_id,
                "metric": e.metric,
                "org_unit_id": e.org_unit_id,
                "person_id": e.person_id,
                "period_start": e.period.start,
                "period_end": e.period.end,
                "target": e.target,
                "status": e.status,
                "version": e.version,
            }
            for e in events
        ),
        key="goal_id",
    )
    await uow.store.goals.upsert(rows)
    await _reprice_goals(
        uow, calendar, [GoalScope(**{n: row[n] for n in GoalScope._fields}) for row in rows]
    )


async def apply_goals_archived(
    uow: Uow, calendar: FiscalCalendar, events: list[GoalArchived]
) -> None:
    """A cancelled quota stops counting; the statements priced on it are priced again."""
    goals = await uow.store.goals.archive(events)
    await _reprice_goals(
        uow,
        calendar,
        [
            GoalScope(g.person_id, g.org_unit_id, g.period_start, g.period_end)
            for g in goals.values()
        ],
    )


class GoalScope(NamedTuple):
    person_id: str | None
    org_unit_id: str
    period_start: date
    period_end: date


async def _reprice_goals(uow: Uow, calendar: FiscalCalendar, goals: list[GoalScope]) -> None:
    """A person's goal is their quota; an org unit's is a team bonus's goal for its members."""
    keys: set[tuple[str, str]] = set()
    team_goals: dict[tuple[str, str], date] = {}
    for goal in goals:
        period = Period(start=goal.period_start, end=goal.period_end)
        period_key = calendar.key_of(period.start, period.end)
        if period_key is None or calendar.grain_of(period) not in PLAN_GRAINS:
            continue
        if goal.person_id is not None:
            keys.add((goal.person_id, period_key))
        else:
            team_goals[(goal.org_unit_id, period_key)] = goal.period_end
    if team_goals and await uow.store.plans.any_team_bonus():
        for (unit_id, period_key), period_end in sorted(team_goals.items()):
            members = await uow.store.org.members_of([unit_id], period_end)
            keys.update((person_id, period_key) for person_id in members.get(unit_id, []))
    await uow.store.queue.enqueue(keys)


async def apply_calendar(uow: Uow, events: list[CalendarUpdated]) -> None:
    """The organisation's calendar, newest version only."""
    await uow.store.calendar.apply(events)


async def organisation_calendar(uow: Uow, default: FiscalCalendar) -> FiscalCalendar:
    """The organisation's calendar as last heard from goal-service, else `default`
    (the fiscal year start of our settings)."""
    return await uow.store.calendar.calendar(default)
