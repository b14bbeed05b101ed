"""What alert-service knows of a goal: its copy, read by who sees the goal."""

from fastapi import APIRouter

from alert_service.api.dependencies import Runtime, Uow
from alert_service.api.models import GoalCopyPublic
from alert_service.service_layer.copies import goal_copy
from servicekit import roles
from servicekit.auth import CurrentPrincipal
from servicekit.inputs import AwareInstant

router = APIRouter(tags=["goals"])


@router.get("/goals/{goal_id}", dependencies=[roles.overseers], response_model=GoalCopyPublic)
async def read_goal_copy(
    goal_id: str,
    uow: Uow,
    runtime: Runtime,
    principal: CurrentPrincipal,
    as_of: AwareInstant | None = None,
) -> GoalCopyPublic:
    """Our copy of the goal (from goal-service's events) and of the newest progress
    we applied (from tracking-service's): the figures the consumer and the sweep
    judge, with what was expected by `as_of`'s day (default now). Compare
    `progress_as_of` and `actual` with tracking-service's `/goals/{id}/progress` to
    tell whether we have caught up before replaying an instant."""
    copy = await goal_copy(uow, principal, goal_id, as_of or runtime.clock.now())
    goal, progress = copy.goal, copy.progress
    return GoalCopyPublic(
        goal_id=goal.goal_id,
        parent_id=goal.parent_id,
        metric=goal.metric,
        direction=goal.direction,
        org_unit_id=goal.org_unit_id,
        person_id=goal.person_id,
        owner_id=goal.owner_id,
        period_start=goal.period_start,
        period_end=goal.period_end,
        timezone=goal.timezone,
        status=goal.status,
        version=goal.version,
        day=copy.day,
        target=goal.target,
        actual=copy.actual,
        expected=copy.expected,
        numerator=None if progress is None else progress.numerator,
        denominator=None if progress is None else progress.denominator,
        progress_as_of=None if progress is None else progress.as_of,
        progress_sequence=None if progress is None else progress.sequence,
    )
