"""The tree a plan builds: each goal as the plan wants it (a `Node`), new or an
existing goal matched by scope, metric and period under the same parent, so
applying the same plan twice changes nothing."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import uuid4

from attain_contracts import Period
from goal_service.domain.metrics import CATALOG
from goal_service.service_layer.plan_scopes import Scope
from goal_service.store.tables import Goal

Key = tuple[str | None, str, str, str | None, str | None, date, date]


@dataclass
class Node:
    """A goal as the plan wants it: new (`existing` None) or an existing one."""

    id: str
    parent_id: str | None
    metric: str
    org_unit_id: str
    person_id: str | None
    product_line: str | None
    owner_id: str
    period: Period
    target: Decimal
    unit: Decimal
    currency: str | None
    method: str
    explanation: str
    existing: Goal | None = None
    derived_from_id: str | None = None
    milestones: list[dict[str, str]] | None = None
    leaf: bool = True  # the next step applies to it
    # A reconciled child's line (DOMAIN.md §5.5): proposal, top-down share,
    # final target and the negotiation flag, as the plan answers them.
    reconciliation: dict[str, str | bool | None] | None = None
    # The stretch the split that made it applied to its parent (None: none).
    stretch: Decimal | None = None

    @property
    def key(self) -> Key:
        return _key(self, self.period.start, self.period.end)

    @property
    def changed(self) -> bool:
        if self.existing is None:
            return True
        return (
            self.existing.target != self.target
            or (self.milestones is not None and self.existing.milestones != self.milestones)
            or self.existing.split_stretch != self.stretch
        )


@dataclass
class Computed:
    root: Node
    nodes: list[Node]
    notes: list[str] = field(default_factory=list)
    left_alone: int = 0

    def note(self, leaf: Node, note: str | None, scope: str) -> None:
        """`<goal id>: <scope>: <what>`, `scope` being the leaf's scope by name
        and id; readers take what comes before the first ": " as the goal's id."""
        if note:
            self.notes.append(f"{leaf.id}: {scope}: {note}")


class Tree:
    """Makes the plan's nodes, each matched to the existing goal it stands for."""

    def __init__(self, existing: Sequence[Goal], *, base_currency: str) -> None:
        self.existing: dict[Key, Goal] = {key_of(goal): goal for goal in existing}
        self.base_currency = base_currency

    def children(
        self,
        leaf: Node,
        children: list[Scope],
        targets: list[Decimal],
        weights: list[Decimal],
        method: str,
        stretch: Decimal,
        *,
        names: list[str],
        fallback: str | None = None,
    ) -> list[Node]:
        """One node per child scope with its share explained (the child by
        `names`, and the `fallback` the weights took, if any); none for a zero share."""
        whole = sum(weights, Decimal(0)) or Decimal(1)
        fell_back = f" ({fallback})" if fallback else ""
        made = []
        for child, name, target, weight in zip(children, names, targets, weights, strict=True):
            stretched = f" x stretch {stretch}" if stretch != 1 else ""
            made.append(
                self.child(
                    leaf,
                    scope=child,
                    target=target,
                    method=method,
                    explanation=f"{name}: {method} weight {weight:.6g} = {weight / whole:.2%} of "
                    f"{leaf.target}{stretched} → {target}{fell_back}",
                )
            )
        for node in made:
            node.stretch = stretch_of(stretch)
        return [node for node in made if node.target > 0]

    def child(
        self,
        parent: Node,
        *,
        target: Decimal,
        method: str,
        explanation: str,
        scope: Scope | None = None,
        period: Period | None = None,
        metric: str | None = None,
        owner_id: str | None = None,
        unit: Decimal | None = None,
        derived: bool = False,
    ) -> Node:
        metric = metric or parent.metric
        money = CATALOG[metric].money
        node = Node(
            id="",
            parent_id=None if derived else parent.id,
            derived_from_id=parent.id if derived else None,
            metric=metric,
            org_unit_id=scope.org_unit_id if scope else parent.org_unit_id,
            person_id=scope.person_id if scope else parent.person_id,
            product_line=scope.id if scope and scope.kind == "line" else parent.product_line,
            owner_id=owner_id or (scope.owner_id if scope else parent.owner_id),
            period=period or parent.period,
            target=target,
            unit=unit or parent.unit,
            currency=(parent.currency or self.base_currency) if money else None,
            method=method,
            explanation=explanation,
        )
        existing = self.existing.get(node.key)
        if existing is not None:
            node.id, node.existing = existing.id, existing
        else:
            node.id = f"goal_{uuid4().hex[:16]}"
        return node


def node_of(goal: Goal) -> Node:
    return Node(
        id=goal.id,
        parent_id=goal.parent_id,
        metric=goal.metric,
        org_unit_id=goal.org_unit_id,
        person_id=goal.person_id,
        product_line=goal.product_line,
        owner_id=goal.owner_id,
        period=Period(key=goal.period_key, start=goal.period_start, end=goal.period_end),
        target=goal.target,
        unit=goal.unit,
        currency=goal.currency,
        method=goal.method,
        explanation="",
        existing=goal,
        derived_from_id=goal.derived_from_id,
        stretch=goal.split_stretch,
    )


def key_of(goal: Goal) -> Key:
    return _key(goal, goal.period_start, goal.period_end)


def _key(goal: "Node | Goal", start: date, end: date) -> Key:
    """What a plan matches an existing goal by: where it hangs, metric, scope, period."""
    return (
        goal.parent_id or goal.derived_from_id,
        goal.metric,
        goal.org_unit_id,
        goal.person_id,
        goal.product_line,
        start,
        end,
    )


def stretch_of(stretch: Decimal) -> Decimal | None:
    """What a goal keeps of its split's stretch: none when there was none."""
    return None if stretch == 1 else stretch


def milestones(points: Sequence[tuple[date, Decimal]]) -> list[dict[str, str]]:
    return [{"on": on.isoformat(), "cumulative_target": str(total)} for on, total in points]
