"""Turns a plan request into the goals it creates or changes, each with the
numbers behind it. Nothing is written here: the same result is a preview
(`dry_run`) or what `plan_writes.apply` writes, so a planner sees exactly what
will happen. Each step is applied to every leaf the step before produced (the
first to the goal itself) by its strategy in `plan_steps`."""

from collections.abc import Sequence

from attain_contracts.calendar import FiscalCalendar
from goal_service.clients.tracking import TrackingClient
from goal_service.domain.errors import InputError
from goal_service.service_layer import plan_requests as rq
from goal_service.service_layer.plan_inputs import PlanInputs
from goal_service.service_layer.plan_steps import STRATEGIES, Context
from goal_service.service_layer.plan_tree import Computed, Tree, node_of
from goal_service.store import GoalStore
from goal_service.store.tables import Goal
from servicekit.errors import FieldError


async def compute(
    store: GoalStore,
    calendar: FiscalCalendar,
    tracking: TrackingClient,
    root: Goal,
    steps: Sequence[rq.PlanStep],
    *,
    base_currency: str,
    min_deals: int,
) -> Computed:
    tree = Tree(await _below(store, root), base_currency=base_currency)
    start = node_of(root)
    computed = Computed(root=start, nodes=[])
    ctx = Context(tree, PlanInputs(store, tracking), calendar, computed, min_deals)
    leaves = [start]
    for index, step in enumerate(steps):
        strategy = STRATEGIES[step.kind]
        produced = []
        for leaf in leaves:
            try:
                produced += await strategy(ctx, leaf, step)
            except InputError as error:  # the step and the leaf say where it went wrong
                field = f"steps.{index}.{error.field}" if error.field else f"steps.{index}"
                raise FieldError(field, f"{leaf.id}: {error.reason}") from error
        if not produced:
            raise FieldError(f"steps.{index}", f"step {index} ({step.kind}) produced no goals")
        computed.nodes += produced
        leaves = [node for node in produced if node.leaf]
    seen = {node.key for node in computed.nodes}
    computed.left_alone = sum(1 for key in tree.existing if key not in seen)
    return computed


async def _below(store: GoalStore, root: Goal) -> list[Goal]:
    """Every live goal below the root, and the goals derived from any of them."""
    below = await store.goals.descendants(root.id)
    derived = await store.goals.derived_from([root.id, *(g.id for g in below)])
    for goal in derived:
        below += [goal, *await store.goals.descendants(goal.id)]
    return below
