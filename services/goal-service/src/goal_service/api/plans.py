"""Decomposition and re-plan over HTTP. Every plan can be previewed
(`dry_run`); applying one is one transaction with one event per goal created
or changed. A re-plan is a proposal until a planner accepts it."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from goal_service.api.deps import SettingsDep, TrackingDep
from goal_service.api.visibility import sees_goal, visibility, visible_goal
from goal_service.plans import apply, replanning
from goal_service.plans.engine import Planner
from goal_service.plans.requests import PlanRequest, ReplanRequest
from goal_service.store import goals, queries
from goal_service.store.tables import Goal, Plan
from servicekit.app import RuntimeDep, UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Principal, Role, require_roles
from servicekit.paging import Page, PagingDep, page_of
from servicekit.problems import Conflict, InvalidInput, NotFound

router = APIRouter(tags=["plans"])
can_plan = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER)
can_shape = require_roles(Role.ADMIN, Role.PLANNER)
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.VIEWER)


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


@router.post("/goals/{goal_id}/plans", dependencies=[can_plan], response_model=PlanPublic)
async def plan_goal(
    goal_id: str,
    body: PlanRequest,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    tracking: TrackingDep,
    principal: CurrentPrincipal,
) -> PlanPublic:
    """Decompose the goal by `steps` (a preview unless `dry_run` is false)."""
    session = uow.session
    root = await _plannable(session, principal, goal_id, applying=not body.dry_run)
    with collector_paused():
        calendar = await queries.calendar(session, settings.timezone)
        planner = Planner(
            session,
            calendar,
            tracking,
            base_currency=settings.base_currency,
            min_deals=settings.funnel_min_deals,
        )
        computed = await planner.compute(root, body.steps)
        if len(computed.nodes) > settings.max_plan_goals:
            raise InvalidInput(
                f"the plan makes {len(computed.nodes)} goals, more than {settings.max_plan_goals}",
                field="steps",
            )
        plan = Plan(
            id=f"plan_{uuid4().hex[:16]}",
            goal_id=root.id,
            kind="decomposition",
            status="preview" if body.dry_run else "applied",
            request=body.model_dump(mode="json"),
            changes=[],
            summary=apply.summary_of(computed),
            created_by=principal.subject,
            created_at=uow.clock.now(),
        )
        changes = list(apply.changes_of(computed)) if body.include_changes else None
        if body.dry_run:
            return _public(plan, changes, preview=True)
        session.add(plan)
        await session.flush()
        await apply.apply(
            uow,
            computed,
            actor=principal.subject,
            reason=body.reason or f"decomposed by {plan.id}",
            plan_id=plan.id,
            timezone=calendar.timezone,
        )
        await uow.commit()
        return _public(plan, changes)


@router.post("/goals/{goal_id}/replans", dependencies=[can_plan], response_model=PlanPublic)
async def replan_goal(
    goal_id: str,
    body: ReplanRequest,
    uow: UnitOfWorkDep,
    tracking: TrackingDep,
    principal: CurrentPrincipal,
) -> PlanPublic:
    """Spread what is left over the open child periods: a preview, or (with
    `dry_run` false) a proposal a planner accepts or rejects."""
    session = uow.session
    goal = await _plannable(session, principal, goal_id, applying=False)
    as_of = body.as_of or uow.clock.now().date()
    computed = await replanning.compute(session, tracking, goal, as_of)
    plan = await replanning.propose(
        session,
        goal,
        computed,
        actor=principal.subject,
        at=uow.clock.now(),
        trigger=None,
        as_of=as_of,
        store=not body.dry_run,
    )
    await uow.commit()
    return _public(plan, plan.changes, preview=body.dry_run)


class PlanList(Page[PlanPublic]):
    """A goal's plans, oldest first."""


@router.get("/goals/{goal_id}/plans", dependencies=[can_read], response_model=PlanList)
async def list_plans(
    goal_id: str,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    status: str | None = None,
) -> PlanList:
    await visible_goal(uow.session, principal, goal_id)
    page = page_of(await queries.plans(uow.session, goal_id, status), paging, key=lambda p: p.id)
    return PlanList(
        data=[_public(p, p.changes or None) for p in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.get("/plans/{plan_id}", dependencies=[can_read], response_model=PlanPublic)
async def get_plan(plan_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal) -> PlanPublic:
    plan = await queries.plan(uow.session, plan_id)
    seen = await visibility(uow.session, principal)
    goal = await queries.goal(uow.session, plan.goal_id) if plan else None
    # "no plan" alike for a missing one and another's: the goal's id is not told.
    if plan is None or goal is None or not await sees_goal(uow.session, seen, goal):
        raise NotFound(f"no plan {plan_id}")
    return _public(plan, plan.changes or None)


@router.post("/plans/{plan_id}/accept", dependencies=[can_shape], response_model=PlanPublic)
async def accept_plan(
    plan_id: str, uow: UnitOfWorkDep, runtime: RuntimeDep, principal: CurrentPrincipal
) -> PlanPublic:
    session = uow.session
    plan = await _proposed(session, plan_id)
    calendar = await queries.calendar(session, runtime.settings.timezone)
    for change in plan.changes:
        goal = await queries.goal_for_update(session, str(change["goal_id"]))
        if goal is None or goal.version != change["version"] or goal.status != "active":
            raise Conflict(
                f"goal {change['goal_id']} changed since the re-plan was proposed; "
                "ask for a new one"
            )
        goals.change(
            uow,
            goal,
            actor=principal.subject,
            reason=f"re-plan {plan.id} accepted",
            timezone=calendar.timezone,
            plan_id=plan.id,
            target=Decimal(str(change["target"])),
        )
    _decide(plan, "accepted", principal, uow.clock.now())
    await uow.commit()
    return _public(plan, plan.changes)


@router.post("/plans/{plan_id}/reject", dependencies=[can_shape], response_model=PlanPublic)
async def reject_plan(plan_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal) -> PlanPublic:
    plan = await _proposed(uow.session, plan_id)
    _decide(plan, "rejected", principal, uow.clock.now())
    await uow.commit()
    return _public(plan, plan.changes)


async def _plannable(
    session: AsyncSession, principal: Principal, goal_id: str, *, applying: bool
) -> Goal:
    goal = await visible_goal(session, principal, goal_id)
    if applying and not (await visibility(session, principal)).shapes:
        raise NotFound(f"no goal {goal_id}")  # managers preview and propose; planners apply
    if goal.status not in ("draft", "active"):
        raise Conflict(f"goal {goal_id} is {goal.status}")
    return goal


async def _proposed(session: AsyncSession, plan_id: str) -> Plan:
    plan = await queries.plan(session, plan_id)
    if plan is None:
        raise NotFound(f"no plan {plan_id}")
    if plan.status != "proposed":
        raise Conflict(f"plan {plan_id} is {plan.status}, not proposed")
    return plan


def _decide(plan: Plan, status: str, principal: Principal, at: datetime) -> None:
    plan.status, plan.decided_by, plan.decided_at = status, principal.subject, at


def _public(
    plan: Plan, changes: list[dict[str, Any]] | None, *, preview: bool = False
) -> PlanPublic:
    return PlanPublic(
        id=None if preview else plan.id,
        goal_id=plan.goal_id,
        kind=plan.kind,
        status=plan.status,
        trigger=plan.trigger,
        summary=PlanSummary(**plan.summary),
        changes=changes,
        created_by=plan.created_by,
        created_at=plan.created_at,
        decided_by=plan.decided_by,
        decided_at=plan.decided_at,
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """A company-wide plan makes millions of small objects that all live until
    it is written; the cyclic collector would walk them over and over (seconds
    at W, BENCHMARKS.md). Nothing a plan makes is cyclic garbage."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
