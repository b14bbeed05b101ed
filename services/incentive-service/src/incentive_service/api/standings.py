"""Recognition: leaderboards by attainment, badges, and scorecards."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from attain_contracts import Period
from incentive_service.api.models import (
    BadgeList,
    BadgePublic,
    GrowthPut,
    Leaderboard,
    LeaderboardRow,
    ScorecardPart,
    ScorecardPublic,
    WeightsPut,
)
from incentive_service.api.plans import calendar_of
from incentive_service.api.visibility import manages_person, may_see_unit, require_person
from incentive_service.domain import standings as ranking
from incentive_service.periods import LEADERBOARD_METRIC, person_standings, standings
from incentive_service.store import queries
from incentive_service.store.tables import GrowthScore, ScorecardWeights
from servicekit.app import UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Role, require_roles
from servicekit.paging import PagingDep, page_of
from servicekit.problems import InvalidInput, NotFound

router = APIRouter(tags=["recognition"])
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP, Role.VIEWER)
can_shape = require_roles(Role.ADMIN, Role.PLANNER)
can_judge = require_roles(Role.ADMIN, Role.MANAGER)


@router.get("/org-units/{unit_id}/leaderboard", dependencies=[can_read], response_model=Leaderboard)
async def get_leaderboard(
    unit_id: str,
    period: Annotated[str, Query(description="FY2026, FY2026-Q1, 2026-03 ...")],
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    request: Request,
    paging: PagingDep,
    metric: Annotated[str, Query(pattern="^[a-z_]+$")] = LEADERBOARD_METRIC,
) -> Leaderboard:
    """Everyone in the unit's subtree ranked by attainment, not by amount."""
    if unit_id not in await queries.org_units(uow.session) or not await may_see_unit(
        uow.session, principal, unit_id
    ):
        raise NotFound(f"no org unit {unit_id}")
    board = ranking.leaderboard(await standings(uow, unit_id, _period(request, period), metric))
    rows = [
        LeaderboardRow(
            rank=r.rank,
            person_id=r.standing.person_id,
            name=r.standing.name,
            org_unit_id=r.standing.org_unit_id,
            target=r.standing.target,
            actual=r.standing.actual,
            attainment=r.standing.attainment,
        )
        for r in board
    ]
    page = page_of(rows, paging, key=lambda row: row.person_id)
    return Leaderboard(
        org_unit_id=unit_id,
        period_key=period,
        metric=metric,
        data=page.data,
        count=page.count,
        next_after=page.next_after,
    )


@router.get("/people/{person_id}/badges", dependencies=[can_read], response_model=BadgeList)
async def get_badges(
    person_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal, paging: PagingDep
) -> BadgeList:
    await require_person(uow.session, principal, person_id)
    page = page_of(
        await queries.badges_of(uow.session, person_id), paging, key=lambda b: b.badge_id
    )
    return BadgeList(
        data=[BadgePublic.model_validate(b, from_attributes=True) for b in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.get(
    "/people/{person_id}/scorecards/{period_key}",
    dependencies=[can_read],
    response_model=ScorecardPublic,
)
async def get_scorecard(
    person_id: str,
    period_key: str,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    request: Request,
) -> ScorecardPublic:
    session = uow.session
    await require_person(session, principal, person_id)
    period = _period(request, period_key)
    held = await queries.memberships(session, [person_id])
    units = await queries.org_units(session)
    path = next(
        (
            units[m.org_unit_id].path
            for m in reversed(held.get(person_id, []))
            if m.valid_from <= period.end and m.org_unit_id in units
        ),
        [],
    )
    weights_by_unit = await queries.scorecard_weights(session, path)
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
        for row in await queries.process_goals(
            session, person_id, ranking.PROCESS_METRICS, period.start, period.end
        )
    ]
    growth = await queries.growth_score(session, person_id, period_key)
    card = ranking.scorecard(
        attainment=standing.attainment,
        process_goals=process,
        growth=growth.score if growth else None,
        weights=weights,
    )
    return ScorecardPublic(
        person_id=person_id,
        period_key=period_key,
        score=card.score,
        parts=[ScorecardPart.model_validate(part, from_attributes=True) for part in card.parts],
        weights_from=weights_from,
    )


@router.put(
    "/people/{person_id}/scorecards/{period_key}/growth",
    dependencies=[can_judge],
    response_model=ScorecardPublic,
)
async def put_growth(
    person_id: str,
    period_key: str,
    body: GrowthPut,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    request: Request,
) -> ScorecardPublic:
    """Growth is the manager's judgement: a manager above the person, or an admin."""
    session = uow.session
    _period(request, period_key)
    if not principal.has_any(Role.ADMIN) and not await manages_person(
        session, principal, person_id
    ):
        raise NotFound(f"no person {person_id}")
    held = await queries.growth_score(session, person_id, period_key)
    now = uow.clock.now()
    if held is None:
        session.add(
            GrowthScore(
                person_id=person_id,
                period_key=period_key,
                score=body.score,
                note=body.note,
                entered_by=principal.subject,
                entered_at=now,
            )
        )
    else:
        held.score, held.note, held.entered_by, held.entered_at = (
            body.score,
            body.note,
            principal.subject,
            now,
        )
    await uow.commit()
    return await get_scorecard(person_id, period_key, uow, principal, request)


@router.put(
    "/org-units/{unit_id}/scorecard-weights", dependencies=[can_shape], response_model=WeightsPut
)
async def put_weights(unit_id: str, body: WeightsPut, uow: UnitOfWorkDep) -> WeightsPut:
    """Weights for the unit's subtree; the nearest unit up a person's path wins."""
    if unit_id not in await queries.org_units(uow.session):
        raise NotFound(f"no org unit {unit_id}")
    problems = ranking.weights_problems(ranking.Weights(body.results, body.process, body.growth))
    if problems:
        raise InvalidInput(
            "; ".join(f"{field}: {reason}" for field, reason in problems),
            field=problems[0][0],
            errors=[
                {"field": field, "code": "invalid_weights", "reason": reason}
                for field, reason in problems
            ],
        )
    held = await uow.session.get(ScorecardWeights, unit_id)
    now = uow.clock.now()
    if held is None:
        uow.session.add(ScorecardWeights(org_unit_id=unit_id, updated_at=now, **body.model_dump()))
    else:
        held.results, held.process, held.growth, held.updated_at = (
            body.results,
            body.process,
            body.growth,
            now,
        )
    await uow.commit()
    return body


def _period(request: Request, period_key: str) -> Period:
    try:
        return calendar_of(request).period(period_key)
    except ValueError as error:
        raise InvalidInput(str(error), field="period") from error
