"""Recognition: the standings a leaderboard ranks, a person's scorecard, and
what managers and planners enter for them (growth scores, weights)."""

from dataclasses import dataclass
from decimal import Decimal

from attain_contracts import Period
from attain_contracts.calendar import FiscalCalendar
from incentive_service.domain import standings as ranking
from incentive_service.service_layer import Uow
from incentive_service.service_layer.plan_periods import named_period
from incentive_service.service_layer.visibility import (
    manages_person,
    require_person,
    sees_unit,
    visibility,
)
from incentive_service.store.tables import Badge, GrowthScore, ScorecardWeights
from servicekit.auth import Principal, Role
from servicekit.errors import FieldError, Missing

LEADERBOARD_METRIC = "revenue"


async def standings(
    uow: Uow, unit_id: str, period: Period, metric: str = LEADERBOARD_METRIC
) -> list[ranking.Standing]:
    """Everyone in the unit's subtree at the period's end, with their goal's
    target and what the ledger credits them in the period."""
    units = await uow.store.org.units()
    subtree = [unit.id for unit in units.values() if unit_id in unit.path]
    members = await uow.store.org.members_of(subtree, period.end)
    unit_of = {person: unit for unit, people in sorted(members.items()) for person in people}
    return await person_standings(uow, unit_of, period, metric)


async def person_standings(
    uow: Uow, unit_of: dict[str, str], period: Period, metric: str = LEADERBOARD_METRIC
) -> list[ranking.Standing]:
    """Each person (in their unit) with their goal's target and what the ledger
    credits them in the period."""
    store = uow.store
    if not unit_of:
        return []
    goals = await store.goals.of_people(unit_of, [metric], period.start, period.end)
    targets: dict[str, Decimal] = {}
    for goal in sorted(goals, key=lambda g: g.goal_id):
        if (goal.period_start, goal.period_end) == (period.start, period.end):
            targets.setdefault(goal.person_id or "", goal.target)
    actuals = await store.credits.totals_by_person(unit_of, metric, period.start, period.end)
    names = {person.id: person.name for person in await store.org.people(unit_of)}
    return [
        ranking.Standing(
            person_id=person,
            name=names.get(person, person),
            org_unit_id=unit,
            target=targets.get(person),
            actual=actuals.get(person, Decimal(0)),
        )
        for person, unit in sorted(unit_of.items())
    ]


async def leaderboard(
    uow: Uow,
    calendar: FiscalCalendar,
    principal: Principal,
    unit_id: str,
    period_key: str,
    metric: str,
) -> list[ranking.Ranked]:
    """Everyone in the unit's subtree ranked by attainment, not by amount."""
    if unit_id not in await uow.store.org.units() or not await sees_unit(
        uow.store, await visibility(uow.store, principal), unit_id
    ):
        raise Missing(f"no org unit {unit_id}")
    period = named_period(calendar, period_key, field="period")
    return ranking.leaderboard(await standings(uow, unit_id, period, metric))


async def badges_of(uow: Uow, principal: Principal, person_id: str) -> list[Badge]:
    await require_person(uow.store, principal, person_id)
    return await uow.store.badges.of_person(person_id)


@dataclass(frozen=True)
class Scorecard:
    card: ranking.Scorecard
    weights_from: str | None


async def scorecard(
    uow: Uow, calendar: FiscalCalendar, principal: Principal, person_id: str, period_key: str
) -> Scorecard:
    store = uow.store
    await require_person(store, principal, person_id)
    period = named_period(calendar, period_key, field="period")
    held = await store.org.memberships([person_id])
    units = await store.org.units()
    path = next(
        (
            units[m.org_unit_id].path
            for m in reversed(held.get(person_id, []))
            if m.valid_from <= period.end and m.org_unit_id in units
        ),
        [],
    )
    weights_by_unit = await store.scorecards.weights_of(path)
    weights_from = next((unit for unit in reversed(path) if unit in weights_by_unit), None)
    weights = ranking.Weights()
    if weights_from is not None:
        chosen = weights_by_unit[weights_from]
        weights = ranking.Weights(chosen.results, chosen.process, chosen.growth)
    (standing,) = await person_standings(uow, {person_id: path[-1] if path else ""}, period)
    process = [
        ranking.ProcessGoal(
            goal_id=row.goal_id, metric=row.metric, target=row.target, actual=row.actual
        )
        for row in await store.goals.process_goals(
            person_id, ranking.PROCESS_METRICS, period.start, period.end
        )
    ]
    growth = await store.scorecards.growth(person_id, period_key)
    card = ranking.scorecard(
        attainment=standing.attainment,
        process_goals=process,
        growth=growth.score if growth else None,
        weights=weights,
    )
    return Scorecard(card, weights_from)


async def put_growth(
    uow: Uow,
    calendar: FiscalCalendar,
    principal: Principal,
    person_id: str,
    period_key: str,
    score: Decimal,
    note: str | None,
) -> None:
    """Growth is the manager's judgement: a manager above the person, or an admin."""
    named_period(calendar, period_key, field="period")
    if not principal.has_any(Role.ADMIN) and not await manages_person(
        uow.store, principal, person_id
    ):
        raise Missing(f"no person {person_id}")
    held = await uow.store.scorecards.growth(person_id, period_key)
    now = uow.clock.now()
    if held is None:
        await uow.store.scorecards.add(
            GrowthScore(
                person_id=person_id,
                period_key=period_key,
                score=score,
                note=note,
                entered_by=principal.subject,
                entered_at=now,
            )
        )
    else:
        held.score, held.note, held.entered_by, held.entered_at = (
            score,
            note,
            principal.subject,
            now,
        )


async def put_weights(uow: Uow, unit_id: str, weights: ranking.Weights) -> None:
    """Weights for the unit's subtree; the nearest unit up a person's path wins."""
    if unit_id not in await uow.store.org.units():
        raise Missing(f"no org unit {unit_id}")
    problems = ranking.weights_problems(weights)
    if problems:
        raise FieldError(
            problems[0][0],
            "; ".join(f"{field}: {reason}" for field, reason in problems),
            errors=[
                {"field": field, "code": "invalid_weights", "reason": reason}
                for field, reason in problems
            ],
        )
    held = await uow.store.scorecards.weights(unit_id)
    now = uow.clock.now()
    if held is None:
        await uow.store.scorecards.add(
            ScorecardWeights(
                org_unit_id=unit_id,
                updated_at=now,
                results=weights.results,
                process=weights.process,
                growth=weights.growth,
            )
        )
    else:
        held.results, held.process, held.growth, held.updated_at = (
            weights.results,
            weights.process,
            weights.growth,
            now,
        )
