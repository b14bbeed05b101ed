"""Decomposition and re-plan over HTTP (the use cases are `service_layer.plans`)."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from goal_service.api.dependencies import Settings, Tracking, Uow
from goal_service.service_layer import plans
from goal_service.service_layer.plan_requests import PlanRequest, ReplanRequest
from servicekit import roles
from servicekit.auth import CurrentPrincipal
from servicekit.paging import Page, PagingDep, page_of

router = APIRouter(tags=["plans"])


class PlanSummary(BaseModel):
    created: int
    updated: int
    kept: int
    left_alone: int
    notes: list[str]


class PlanPublic(BaseModel):
    id: str | None
    goal_id: str
    kind: str
    status: str
    trigger: str | None
    summary: PlanSummary
    changes: list[dict[str, Any]] | None
    created_by: str
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None


class PlanList(Page[PlanPublic]):
    """A goal's plans, oldest first."""


@router.post("/goals/{goal_id}/plans", dependencies=[roles.planners], response_model=PlanPublic)
async def plan_goal(
    goal_id: str,
    body: PlanRequest,
    uow: Uow,
    settings: Settings,
    tracking: Tracking,
    principal: CurrentPrincipal,
) -> PlanPublic:
    """Decompose the goal by `steps` (a preview unless `dry_run` is false)."""
    with plans.collector_paused():
        planned = await plans.decompose(uow, principal, goal_id, body, tracking, settings)
        if not planned.preview:
            await uow.commit()
        return _public(planned)


@router.post("/goals/{goal_id}/replans", dependencies=[roles.planners], response_model=PlanPublic)
async def replan_goal(
    goal_id: str, body: ReplanRequest, uow: Uow, tracking: Tracking, principal: CurrentPrincipal
) -> PlanPublic:
    """Spread what is left over the open child periods: a preview, or (with
    `dry_run` false) a proposal a planner accepts or rejects."""
    planned = await plans.replan(uow, principal, goal_id, body, tracking)
    await uow.commit()
    return _public(planned)


@router.get("/goals/{goal_id}/plans", dependencies=[roles.overseers], response_model=PlanList)
async def list_plans(
    goal_id: str,
    uow: Uow,
    principal: CurrentPrincipal,
    paging: PagingDep,
    status: str | None = None,
) -> PlanList:
    found = await plans.of_goal(uow.store, principal, goal_id, status)
    page = page_of(found, paging, key=lambda p: p.id)
    return PlanList(
        data=[_public(plans.Planned(p, p.changes or None)) for p in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.get("/plans/{plan_id}", dependencies=[roles.overseers], response_model=PlanPublic)
async def get_plan(plan_id: str, uow: Uow, principal: CurrentPrincipal) -> PlanPublic:
    plan = await plans.one(uow.store, principal, plan_id)
    return _public(plans.Planned(plan, plan.changes or None))


@router.post("/plans/{plan_id}/accept", dependencies=[roles.shapers], response_model=PlanPublic)
async def accept_plan(
    plan_id: str, uow: Uow, settings: Settings, principal: CurrentPrincipal
) -> PlanPublic:
    plan = await plans.accept(uow, principal, plan_id, settings)
    await uow.commit()
    return _public(plans.Planned(plan, plan.changes))


@router.post("/plans/{plan_id}/reject", dependencies=[roles.shapers], response_model=PlanPublic)
async def reject_plan(plan_id: str, uow: Uow, principal: CurrentPrincipal) -> PlanPublic:
    plan = await plans.reject(uow, principal, plan_id)
    await uow.commit()
    return _public(plans.Planned(plan, plan.changes))


def _public(planned: "plans.Planned") -> PlanPublic:
    plan = planned.plan
    return PlanPublic(
        id=None if planned.preview else plan.id,
        goal_id=plan.goal_id,
        kind=plan.kind,
        status=plan.status,
        trigger=plan.trigger,
        summary=PlanSummary(**plan.summary),
        changes=planned.changes,
        created_by=plan.created_by,
        created_at=plan.created_at,
        decided_by=plan.decided_by,
        decided_at=plan.decided_at,
    )
