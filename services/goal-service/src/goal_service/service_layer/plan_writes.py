"""Writing a computed plan: new goals inserted parents first, changed goals as
new versions, one `GoalUpserted` per goal created or changed, all in the
caller's transaction, so a tree is never half applied."""

from collections.abc import Iterable
from typing import Any

from goal_service.domain.metrics import CATALOG
from goal_service.service_layer import goal_writes
from goal_service.service_layer.plan_tree import Computed, Node
from goal_service.store import GoalStore
from servicekit.uow import UnitOfWork


async def apply(
    uow: UnitOfWork[GoalStore],
    computed: Computed,
    *,
    actor: str,
    reason: str,
    plan_id: str,
    timezone: str,
) -> None:
    status = computed.root.existing.status if computed.root.existing else "active"
    fresh = [_row(node, status) for node in computed.nodes if node.existing is None]
    await goal_writes.add_rows(
        uow, fresh, actor=actor, reason=reason, timezone=timezone, plan_id=plan_id
    )
    for node in [computed.root, *computed.nodes]:
        if node.existing is not None and node.changed:
            changes: dict[str, Any] = {"target": node.target, "split_stretch": node.stretch}
            if node.milestones is not None:
                changes["milestones"] = node.milestones
            goal_writes.change(
                uow,
                node.existing,
                actor=actor,
                reason=reason,
                timezone=timezone,
                plan_id=plan_id,
                **changes,
            )


def changes_of(computed: Computed) -> Iterable[dict[str, Any]]:
    """What the plan does to each goal, for the preview and for a proposal."""
    for node in [computed.root, *computed.nodes]:
        if node is computed.root and not node.changed:
            continue
        yield {
            "goal_id": node.id,
            "action": "create" if node.existing is None else ("update" if node.changed else "keep"),
            "parent_id": node.parent_id,
            "derived_from_id": node.derived_from_id,
            "metric": node.metric,
            "org_unit_id": node.org_unit_id,
            "person_id": node.person_id,
            "product_line": node.product_line,
            "owner_id": node.owner_id,
            "period": {
                "key": node.period.key,
                "start": node.period.start.isoformat(),
                "end": node.period.end.isoformat(),
            },
            "target": str(node.target),
            "previous_target": None if node.existing is None else str(node.existing.target),
            "version": None if node.existing is None else node.existing.version,
            "method": node.method,
            "explanation": node.explanation,
            "milestones": node.milestones,
            "reconciliation": node.reconciliation,
            # The stretch of the split that made this goal (None: none) and the unit its
            # own children are rounded to: one split's children add up to round(the
            # parent's target x their stretch, the parent's unit), as the SMART check says.
            "stretch": None if node.stretch is None else str(node.stretch),
            "unit": str(node.unit),
        }


def summary_of(computed: Computed) -> dict[str, Any]:
    nodes = computed.nodes
    return {
        "created": sum(1 for n in nodes if n.existing is None),
        "updated": sum(1 for n in [computed.root, *nodes] if n.existing is not None and n.changed),
        "kept": sum(1 for n in nodes if n.existing is not None and not n.changed),
        "left_alone": computed.left_alone,
        "notes": computed.notes,
    }


def _row(node: Node, status: str) -> dict[str, Any]:
    return {
        "id": node.id,
        "parent_id": node.parent_id,
        "derived_from_id": node.derived_from_id,
        "split_stretch": node.stretch,
        "metric": node.metric,
        "direction": CATALOG[node.metric].direction,
        "org_unit_id": node.org_unit_id,
        "person_id": node.person_id,
        "product_line": node.product_line,
        "owner_id": node.owner_id,
        "contributors": [],
        "period_key": node.period.key,
        "period_start": node.period.start,
        "period_end": node.period.end,
        "target": node.target,
        "unit": node.unit,
        "currency": node.currency,
        "status": status,
        "method": node.method,
        "rationale": node.explanation,
        "milestones": node.milestones or [],
        "budget": None,
        "headcount": None,
        "version": 1,
    }
