"""Recognition: leaderboards by attainment, badges, and scorecards."""

from typing import Annotated

from fastapi import APIRouter, Query

from incentive_service.api.dependencies import Calendar, Uow
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
from incentive_service.domain import standings as ranking
from incentive_service.service_layer import standings
from incentive_service.service_layer.standings import LEADERBOARD_METRIC
from servicekit import roles
from servicekit.auth import CurrentPrincipal
from servicekit.paging import PagingDep, page_of

router = APIRouter(tags=["recognition"])


@router.get(
    "/org-units/{unit_id}/leaderboard", dependencies=[roles.people], response_model=Leaderboard
)
async def get_leaderboard(
    unit_id: str,
    period: Annotated[str, Query(description="FY2026, FY2026-Q1, 2026-03 ...")],
    uow: Uow,
    principal: CurrentPrincipal,
    calendar: Calendar,
    paging: PagingDep,
    metric: Annotated[str, Query(pattern="^[a-z_]+$")] = LEADERBOARD_METRIC,
) -> Leaderboard:
    """Everyone in the unit's subtree ranked by attainment, not by amount."""
    board = await standings.leaderboard(uow, calendar, principal, unit_id, period, metric)
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


@router.get("/people/{person_id}/badges", dependencies=[roles.people], response_model=BadgeList)
async def get_badges(
    person_id: str, uow: Uow, principal: CurrentPrincipal, paging: PagingDep
) -> BadgeList:
    page = page_of(
        await standings.badges_of(uow, principal, person_id), paging, key=lambda b: b.badge_id
    )
    return BadgeList(
        data=[BadgePublic.model_validate(b, from_attributes=True) for b in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.get(
    "/people/{person_id}/scorecards/{period_key}",
    dependencies=[roles.people],
    response_model=ScorecardPublic,
)
async def get_scorecard(
    person_id: str, period_key: str, uow: Uow, principal: CurrentPrincipal, calendar: Calendar
) -> ScorecardPublic:
    found = await standings.scorecard(uow, calendar, principal, person_id, period_key)
    return _scorecard(person_id, period_key, found)


@router.put(
    "/people/{person_id}/scorecards/{period_key}/growth",
    dependencies=[roles.judges],
    response_model=ScorecardPublic,
)
async def put_growth(
    person_id: str,
    period_key: str,
    body: GrowthPut,
    uow: Uow,
    principal: CurrentPrincipal,
    calendar: Calendar,
) -> ScorecardPublic:
    """Growth is the manager's judgement: a manager above the person, or an admin."""
    await standings.put_growth(
        uow, calendar, principal, person_id, period_key, body.score, body.note
    )
    await uow.commit()
    found = await standings.scorecard(uow, calendar, principal, person_id, period_key)
    return _scorecard(person_id, period_key, found)


@router.put(
    "/org-units/{unit_id}/scorecard-weights",
    dependencies=[roles.shapers],
    response_model=WeightsPut,
)
async def put_weights(unit_id: str, body: WeightsPut, uow: Uow) -> WeightsPut:
    """Weights for the unit's subtree; the nearest unit up a person's path wins."""
    weights = ranking.Weights(body.results, body.process, body.growth)
    await standings.put_weights(uow, unit_id, weights)
    await uow.commit()
    return body


def _scorecard(person_id: str, period_key: str, found: standings.Scorecard) -> ScorecardPublic:
    return ScorecardPublic(
        person_id=person_id,
        period_key=period_key,
        score=found.card.score,
        parts=[
            ScorecardPart.model_validate(part, from_attributes=True) for part in found.card.parts
        ],
        weights_from=found.weights_from,
    )
