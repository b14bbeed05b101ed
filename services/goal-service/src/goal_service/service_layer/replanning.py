"""Re-plan (DOMAIN.md §5.8) as a plan: what is left of a goal's target spread
over its child periods not yet over, each changed child's own open periods
following it. Offered as a proposal when a goal falls behind; written only
when a planner accepts it. The goal's own target never changes here."""

from datetime import date, datetime
from decimal import Decimal
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import structlog

from attain_contracts import DeviationDetected, Period
from goal_service.clients.tracking import TrackingClient
from goal_service.domain import replan
from goal_service.service_layer import plan_writes
from goal_service.service_layer.plan_tree import Computed, node_of
from goal_service.settings import GoalSettings
from goal_service.store import GoalStore
from goal_service.store.tables import Goal, Plan
from servicekit.errors import FieldError
from servicekit.uow import UnitOfWork

log = structlog.get_logger()


async def time_children(store: GoalStore, goal: Goal) -> list[Goal]:
    """The children that split the goal's period (same metric and scope)."""
    return [
        child
        for child in await store.goals.children(goal.id)
        if (child.metric, child.org_unit_id, child.person_id, child.product_line)
        == (goal.metric, goal.org_unit_id, goal.person_id, goal.product_line)
    ]


async def replan_target(store: GoalStore, goal: Goal) -> Goal | None:
    """The goal to re-plan when `goal` falls behind: itself when it has child
    periods, else its parent (a week behind re-plans the month's other weeks)."""
    if await time_children(store, goal):
        return goal
    if goal.parent_id is None:
        return None
    parent = await store.goals.goal(goal.parent_id)
    if parent is not None and await time_children(store, parent):
        return parent
    return None


async def compute(store: GoalStore, tracking: TrackingClient, goal: Goal, as_of: date) -> Computed:
    root = node_of(goal)
    computed = Computed(root=root, nodes=[])
    try:
        result = await _spread(store, tracking, goal, goal.target, as_of, computed)
    except replan.ReplanError as error:
        raise FieldError("as_of", f"{goal.id}: {error.reason}") from error
    if result is None:
        raise FieldError("goal_id", f"goal {goal.id} has no child periods to re-plan")
    return computed


async def _spread(
    store: GoalStore,
    tracking: TrackingClient,
    goal: Goal,
    target: Decimal,
    as_of: date,
    computed: Computed,
) -> replan.Replan | None:
    children = await time_children(store, goal)
    if not children:
        return None
    # What the closed periods reached, in one request: the open ones are planned afresh.
    progress = await tracking.progress([c.id for c in children if c.period_end < as_of])
    plans = [
        replan.ChildPlan(
            period=Period(start=child.period_start, end=child.period_end),
            target=child.target,
            actual=progress[child.id].actual if child.id in progress else Decimal(0),
        )
        for child in children
    ]
    result = replan.replan(target, plans, as_of, goal.unit)
    for child, new_target in zip(children, result.targets, strict=True):
        if new_target == child.target:
            continue
        node = node_of(child)
        node.target = new_target
        node.method = "replan"
        node.explanation = (
            f"re-planned on {as_of}: {result.remaining} left of {target} over "
            f"{result.open_count} open periods, {child.target} → {new_target}"
        )
        computed.nodes.append(node)
        await _spread(store, tracking, child, new_target, as_of, computed)
    return result


async def propose(
    store: GoalStore,
    goal: Goal,
    computed: Computed,
    *,
    actor: str,
    at: datetime,
    trigger: str | None,
    as_of: date,
    keep: bool = True,
) -> Plan:
    """A re-plan proposal; it supersedes the goal's earlier open proposals."""
    plan = Plan(
        id=f"plan_{uuid4().hex[:16]}",
        goal_id=goal.id,
        kind="replan",
        status="proposed" if keep else "preview",
        request={"as_of": as_of.isoformat()},
        changes=list(plan_writes.changes_of(computed)),
        summary=plan_writes.summary_of(computed),
        trigger=trigger,
        created_by=actor,
        created_at=at,
    )
    if keep:
        for earlier in await store.plans.of_goal(goal.id, "proposed"):
            earlier.status = "superseded"
        store.add(plan)
    return plan


async def offer(
    uow: UnitOfWork[GoalStore],
    events: list[DeviationDetected],
    *,
    settings: GoalSettings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """A re-plan proposal for each goal that fell behind (or the parent whose other
    periods make up for it), once per alert; none when nothing is left to re-plan."""
    store = uow.store
    calendar = await store.org.calendar(settings.timezone)
    tracking = TrackingClient.from_settings(settings, transport)
    try:
        for event in events:
            goal = await store.goals.goal(event.goal_id)
            target = await replan_target(store, goal) if goal else None
            if target is None or target.status != "active":
                log.info("replan.skipped", goal_id=event.goal_id, alert_id=event.alert_id)
                continue
            if any(p.trigger == event.alert_id for p in await store.plans.of_goal(target.id)):
                continue  # already offered for this alert
            as_of = event.as_of.astimezone(ZoneInfo(calendar.timezone)).date()
            try:
                computed = await compute(store, tracking, target, as_of)
            except FieldError as error:  # nothing left to re-plan
                log.info("replan.not_offered", goal_id=target.id, reason=str(error))
                continue
            await propose(
                store,
                target,
                computed,
                actor="goal-service",
                at=uow.clock.now(),
                trigger=event.alert_id,
                as_of=as_of,
            )
    finally:
        await tracking.close()
    await store.flush()
