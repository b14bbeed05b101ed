"""Our copies of goal-service's org tree, people and goals (newest version
only): who a plan applies to, their quota, their team and its goal, and the
process goals a scorecard reads. A changed quota or team goal prices the
statements it touches again."""

from datetime import date
from typing import NamedTuple

from attain_contracts import GoalArchived, GoalUpserted, OrgUnitUpserted, Period, PersonUpserted
from incentive_service.settings import IncentiveSettings
from incentive_service.statements import PLAN_GRAINS, statement_periods
from incentive_service.store import queries
from incentive_service.store.tables import Goal, OrgUnit
from servicekit.db import newest_versions, upsert_newer
from servicekit.uow import UnitOfWork


async def on_org_units(uow: UnitOfWork, events: list[OrgUnitUpserted]) -> None:
    await upsert_newer(
        uow.session,
        OrgUnit,
        "id",
        newest_versions(
            {
                "id": e.org_unit_id,
                "name": e.name,
                "parent_id": e.parent_id,
                "manager_id": e.manager_id,
                "path": e.path,
                "version": e.version,
            }
            for e in events
        ),
        "version",
    )


async def on_people(
    uow: UnitOfWork, events: list[PersonUpserted], *, settings: IncentiveSettings
) -> None:
    """A person placed or moved may now fall under another plan or team: their
    statements are priced again for every period they have credits in."""
    newest = {e.person_id: e for e in sorted(events, key=lambda e: e.version)}
    changed = await queries.upsert_people(
        uow.session,
        [{"id": e.person_id, "name": e.name, "version": e.version} for e in newest.values()],
    )
    if changed:
        await queries.replace_memberships(
            uow.session,
            changed,
            [
                {
                    "person_id": person_id,
                    "org_unit_id": m.org_unit_id,
                    "valid_from": m.valid_from,
                    "valid_to": m.valid_to,
                }
                for person_id in sorted(changed)
                for m in {
                    (m.org_unit_id, m.valid_from): m for m in newest[person_id].memberships
                }.values()
            ],
        )
        calendar = settings.calendar()
        await queries.enqueue(
            uow.session,
            {
                (person_id, period.key or "")
                for person_id, month in await queries.credited_months(uow.session, changed)
                for period in statement_periods(calendar, month)
            },
        )


async def on_goals(
    uow: UnitOfWork, events: list[GoalUpserted], *, settings: IncentiveSettings
) -> None:
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
    await upsert_newer(uow.session, Goal, "goal_id", rows, "version")
    await _reprice_goals(
        uow, settings, [GoalScope(**{n: row[n] for n in GoalScope._fields}) for row in rows]
    )


async def on_goals_archived(
    uow: UnitOfWork, events: list[GoalArchived], *, settings: IncentiveSettings
) -> None:
    """A cancelled quota stops counting; the statements priced on it are priced again."""
    goals = await queries.goals(uow.session, {e.goal_id for e in events})
    for event in sorted(events, key=lambda e: e.version):
        goal = goals.get(event.goal_id)
        if goal is not None and event.version > goal.version:
            goal.status, goal.version = event.status, event.version
    await uow.session.flush()
    await _reprice_goals(
        uow,
        settings,
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


async def _reprice_goals(
    uow: UnitOfWork, settings: IncentiveSettings, goals: list[GoalScope]
) -> None:
    """A person's goal is their quota; an org unit's is a team bonus's goal for its members."""
    calendar = settings.calendar()
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
    if team_goals and await queries.any_team_bonus(uow.session):
        for (unit_id, period_key), period_end in sorted(team_goals.items()):
            members = await queries.members_of(uow.session, [unit_id], period_end)
            keys.update((person_id, period_key) for person_id in members.get(unit_id, []))
    await queries.enqueue(uow.session, keys)
