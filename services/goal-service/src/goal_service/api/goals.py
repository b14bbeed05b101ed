"""Goals: one metric, one scope, one period, one target, exactly one owner."""

from uuid import uuid4

from fastapi import APIRouter, status

from attain_contracts import Period
from goal_service.api.models import GoalCreate, GoalPublic
from goal_service.domain.metrics import CATALOG
from goal_service.domain.periods import UnknownPeriodKey, period_from_key, within
from goal_service.store import events, queries
from goal_service.store.tables import Goal
from servicekit.app import RuntimeDep, UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Role, require_roles
from servicekit.problems import InvalidInput, NotFound

router = APIRouter(tags=["goals"])
can_shape = require_roles(Role.ADMIN, Role.PLANNER)
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP, Role.VIEWER)


@router.post(
    "/goals",
    status_code=status.HTTP_201_CREATED,
    dependencies=[can_shape],
    response_model=GoalPublic,
)
async def create_goal(
    body: GoalCreate, uow: UnitOfWorkDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> Goal:
    session = uow.session
    metric = CATALOG.get(body.metric)
    if metric is None:
        raise InvalidInput(
            f"unknown metric {body.metric}; known: {', '.join(CATALOG)}", field="metric"
        )
    if body.target <= 0:
        raise InvalidInput("a target must be positive", field="target")
    period = _period(body)
    if await queries.org_unit(session, body.org_unit_id) is None:
        raise InvalidInput(f"no org unit {body.org_unit_id}", field="org_unit_id")
    if await queries.person(session, body.owner_id) is None:
        raise InvalidInput(f"no person {body.owner_id} to own the goal", field="owner_id")
    if body.person_id is not None and await queries.person(session, body.person_id) is None:
        raise InvalidInput(f"no person {body.person_id}", field="person_id")
    if body.parent_id is not None:
        parent = await queries.goal(session, body.parent_id)
        if parent is None:
            raise InvalidInput(f"no goal {body.parent_id}", field="parent_id")
        parent_period = Period(start=parent.period_start, end=parent.period_end)
        if not within(period, parent_period):
            raise InvalidInput(
                "the period lies outside the parent goal's period", field="period_key"
            )
    currency = body.currency or (runtime.settings.base_currency if metric.money else None)
    goal = Goal(
        id=f"goal_{uuid4().hex[:16]}",
        parent_id=body.parent_id,
        metric=metric.key,
        direction=metric.direction,
        org_unit_id=body.org_unit_id,
        person_id=body.person_id,
        owner_id=body.owner_id,
        product_line=body.product_line,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        target=body.target,
        currency=currency,
        status=body.status,
        method="manual",
        rationale=body.rationale,
        created_by=principal.subject,
        updated_at=uow.clock.now(),
    )
    session.add(goal)
    uow.publish(events.goal_upserted(goal, runtime.settings.timezone))
    await uow.commit()
    return goal


@router.get("/goals/{goal_id}", dependencies=[can_read], response_model=GoalPublic)
async def get_goal(goal_id: str, uow: UnitOfWorkDep) -> Goal:
    goal = await queries.goal(uow.session, goal_id)
    if goal is None:
        raise NotFound(f"no goal {goal_id}")
    return goal


def _period(body: GoalCreate) -> Period:
    if body.period_key is not None:
        try:
            return period_from_key(body.period_key)
        except UnknownPeriodKey as error:
            raise InvalidInput(str(error), field="period_key") from error
    assert body.period_start is not None and body.period_end is not None
    if body.period_end < body.period_start:
        raise InvalidInput("the period ends before it starts", field="period_end")
    return Period(start=body.period_start, end=body.period_end)
