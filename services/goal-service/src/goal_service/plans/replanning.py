"""Re-plan (DOMAIN.md §5.8) as a plan: what is left of a goal's target spread
over its child periods not yet over, each changed child's own open periods
following it. Offered as a proposal when a goal falls behind; written only
when a planner accepts it. The goal's own target never changes here."""

from datetime import date, datetime
from decimal import Decimal
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from attain_contracts import Period
from goal_service.domain import replan
from goal_service.plans import apply
from goal_service.plans.engine import Computed, node_of
from goal_service.store import queries
from goal_service.store.tables import Goal, Plan
from goal_service.tracking import TrackingClient
from servicekit.problems import InvalidInput


async def time_children(session: AsyncSession, goal: Goal) -> list[Goal]:
    """The children that split the goal's period (same metric and scope)."""
    return [
        child
        for child in await queries.children(session, goal.id)
        if (child.metric, child.org_unit_id, child.person_id, child.product_line)
        == (goal.metric, goal.org_unit_id, goal.person_id, goal.product_line)
    ]


async def replan_target(session: AsyncSession, goal: Goal) -> Goal | None:
    """The goal to re-plan when `goal` falls behind: itself when it has child
    periods, else its parent (a week behind re-plans the month's other weeks)."""
    if await time_children(session, goal):
        return goal
    if goal.parent_id is None:
        return None
    parent = await queries.goal(session, goal.parent_id)
    if parent is not None and await time_children(session, parent):
        return parent
    return None


async def compute(
    session: AsyncSession, tracking: TrackingClient, goal: Goal, as_of: date
) -> Computed:
    root = node_of(goal)
    computed = Computed(root=root, nodes=[])
    try:
        result = await _spread(session, tracking, goal, goal.target, as_of, computed)
    except ValueError as error:
        raise InvalidInput(f"{goal.id}: {error}", field="as_of") from error
    if result is None:
        raise InvalidInput(f"goal {goal.id} has no child periods to re-plan", field="goal_id")
    return computed


async def _spread(
    session: AsyncSession,
    tracking: TrackingClient,
    goal: Goal,
    target: Decimal,
    as_of: date,
    computed: Computed,
) -> replan.Replan | None:
    children = await time_children(session, goal)
    if not children:
        return None
    plans = []
    for child in children:
        closed = child.period_end < as_of
        progress = await tracking.progress(child.id) if closed else None
        plans.append(
            replan.ChildPlan(
                period=Period(start=child.period_start, end=child.period_end),
                target=child.target,
                actual=progress.actual if progress else Decimal(0),
            )
        )
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
        await _spread(session, tracking, child, new_target, as_of, computed)
    return result


async def propose(
    session: AsyncSession,
    goal: Goal,
    computed: Computed,
    *,
    actor: str,
    at: datetime,
    trigger: str | None,
    as_of: date,
    store: bool = True,
) -> Plan:
    """A re-plan proposal; it supersedes the goal's earlier open proposals."""
    plan = Plan(
        id=f"plan_{uuid4().hex[:16]}",
        goal_id=goal.id,
        kind="replan",
        status="proposed" if store else "preview",
        request={"as_of": as_of.isoformat()},
        changes=list(apply.changes_of(computed)),
        summary=apply.summary_of(computed),
        trigger=trigger,
        created_by=actor,
        created_at=at,
    )
    if store:
        for earlier in await queries.plans(session, goal.id, "proposed"):
            earlier.status = "superseded"
        session.add(plan)
    return plan
