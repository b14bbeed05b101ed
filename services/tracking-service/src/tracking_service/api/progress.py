"""Live progress of a goal at any instant."""

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel

from servicekit.app import RuntimeDep, UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Role
from servicekit.problems import NotFound
from tracking_service.progress import goal_progress
from tracking_service.store import queries

router = APIRouter(tags=["progress"])


class ProgressPublic(BaseModel):
    goal_id: str
    owner_id: str
    metric: str
    as_of: datetime
    actual: Decimal
    target: Decimal
    attainment: Decimal | None
    expected_to_date: Decimal
    pace: Decimal | None
    projection: Decimal


@router.get("/goals/{goal_id}/progress", response_model=ProgressPublic)
async def read_progress(
    goal_id: str,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    as_of: AwareDatetime | None = None,
) -> ProgressPublic:
    goal = await queries.goal(uow.session, goal_id)
    sees_all = principal.has_any(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.VIEWER)
    if goal is None or not (sees_all or goal.owner_id == principal.person_id):
        raise NotFound(f"no goal {goal_id}")
    instant = as_of or runtime.clock.now()
    progress = await goal_progress(uow.session, goal, instant)
    return ProgressPublic(
        goal_id=goal.id,
        owner_id=goal.owner_id,
        metric=goal.metric,
        as_of=instant,
        **asdict(progress),
    )
