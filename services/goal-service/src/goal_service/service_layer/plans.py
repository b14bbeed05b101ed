"""Decomposition and re-plan. Every plan can be previewed (`dry_run`); applying
one writes one event per goal created or changed in the caller's transaction. A
re-plan is a proposal until a planner accepts it."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from goal_service.clients.tracking import TrackingClient
from goal_service.service_layer import goal_writes, plan_writes, planner, replanning
from goal_service.service_layer.plan_requests import PlanRequest, ReplanRequest
from goal_service.service_layer.visibility import sees_goal, shapes, visibility, visible_goal
from goal_service.settings import GoalSettings
from goal_service.store import GoalStore
from goal_service.store.tables import Goal, Plan
from servicekit.auth import Principal
from servicekit.errors import Clash, FieldError, Missing
from servicekit.uow import UnitOfWork


@dataclass(frozen=True)
class Planned:
    """A plan as it is answered: a preview has no id; `changes` may be left out."""

    plan: Plan
    changes: list[dict[str, Any]] | None
    preview: bool = False


async def decompose(
    uow: UnitOfWork[GoalStore],
    principal: Principal,
    goal_id: str,
    body: PlanRequest,
    tracking: TrackingClient,
    settings: GoalSettings,
) -> Planned:
    """Decompose the goal by `body.steps`: a preview, or (not `dry_run`) applied; the
    caller commits."""
    store = uow.store
    root = await _plannable(store, principal, goal_id, applying=not body.dry_run)
    calendar = await store.org.calendar(settings.timezone)
    computed = await planner.compute(
        store,
        calendar,
        tracking,
        root,
        body.steps,
        base_currency=settings.base_currency,
        min_deals=settings.funnel_min_deals,
    )
    if len(computed.nodes) > settings.max_plan_goals:
        raise FieldError(
            "steps",
            f"the plan makes {len(computed.nodes)} goals, more than {settings.max_plan_goals}",
        )
    plan = Plan(
        id=f"plan_{uuid4().hex[:16]}",
        goal_id=root.id,
        kind="decomposition",
        status="preview" if body.dry_run else "applied",
        request=body.model_dump(mode="json"),
        changes=[],
        summary=plan_writes.summary_of(computed),
        created_by=principal.subject,
        created_at=uow.clock.now(),
    )
    changes = list(plan_writes.changes_of(computed)) if body.include_changes else None
    if body.dry_run:
        return Planned(plan, changes, preview=True)
    store.add(plan)
    await store.flush()
    await plan_writes.apply(
        uow,
        computed,
        actor=principal.subject,
        reason=body.reason or f"decomposed by {plan.id}",
        plan_id=plan.id,
        timezone=calendar.timezone,
    )
    return Planned(plan, changes)


async def replan(
    uow: UnitOfWork[GoalStore],
    principal: Principal,
    goal_id: str,
    body: ReplanRequest,
    tracking: TrackingClient,
) -> Planned:
    """Spread what is left over the open child periods: a preview, or (not `dry_run`)
    a proposal a planner accepts or rejects; the caller commits."""
    store = uow.store
    goal = await _plannable(store, principal, goal_id, applying=False)
    as_of = body.as_of or uow.clock.now().date()
    computed = await replanning.compute(store, tracking, goal, as_of)
    plan = await replanning.propose(
        store,
        goal,
        computed,
        actor=principal.subject,
        at=uow.clock.now(),
        trigger=None,
        as_of=as_of,
        keep=not body.dry_run,
    )
    return Planned(plan, plan.changes, preview=body.dry_run)


async def of_goal(
    store: GoalStore, principal: Principal, goal_id: str, status: str | None
) -> list[Plan]:
    await visible_goal(store, principal, goal_id)
    return await store.plans.of_goal(goal_id, status)


async def one(store: GoalStore, principal: Principal, plan_id: str) -> Plan:
    plan = await store.plans.plan(plan_id)
    seen = await visibility(store, principal)
    goal = await store.goals.goal(plan.goal_id) if plan else None
    # "no plan" alike for a missing one and another's: the goal's id is not told.
    if plan is None or goal is None or not await sees_goal(store, seen, goal):
        raise Missing(f"no plan {plan_id}")
    return plan


async def accept(
    uow: UnitOfWork[GoalStore], principal: Principal, plan_id: str, settings: GoalSettings
) -> Plan:
    store = uow.store
    plan = await _proposed(store, plan_id)
    calendar = await store.org.calendar(settings.timezone)
    for change in plan.changes:
        goal = await store.goals.for_update(str(change["goal_id"]))
        if goal is None or goal.version != change["version"] or goal.status != "active":
            raise Clash(
                f"goal {change['goal_id']} changed since the re-plan was proposed; "
                "ask for a new one"
            )
        goal_writes.change(
            uow,
            goal,
            actor=principal.subject,
            reason=f"re-plan {plan.id} accepted",
            timezone=calendar.timezone,
            plan_id=plan.id,
            target=Decimal(str(change["target"])),
        )
    _decide(plan, "accepted", principal, uow.clock.now())
    return plan


async def reject(uow: UnitOfWork[GoalStore], principal: Principal, plan_id: str) -> Plan:
    plan = await _proposed(uow.store, plan_id)
    _decide(plan, "rejected", principal, uow.clock.now())
    return plan


async def _plannable(
    store: GoalStore, principal: Principal, goal_id: str, *, applying: bool
) -> Goal:
    goal = await visible_goal(store, principal, goal_id)
    if applying and not shapes(principal):
        raise Missing(f"no goal {goal_id}")  # managers preview and propose; planners apply
    if goal.status not in ("draft", "active"):
        raise Clash(f"goal {goal_id} is {goal.status}")
    return goal


async def _proposed(store: GoalStore, plan_id: str) -> Plan:
    plan = await store.plans.plan(plan_id)
    if plan is None:
        raise Missing(f"no plan {plan_id}")
    if plan.status != "proposed":
        raise Clash(f"plan {plan_id} is {plan.status}, not proposed")
    return plan


def _decide(plan: Plan, status: str, principal: Principal, at: datetime) -> None:
    plan.status, plan.decided_by, plan.decided_at = status, principal.subject, at


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
