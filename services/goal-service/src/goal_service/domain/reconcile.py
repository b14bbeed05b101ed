"""Bottom-up proposals against the top-down target (DOMAIN.md §5.4) and the
hybrid reconciliation of the two (§5.5)."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Literal

from goal_service.domain.errors import InputError
from servicekit.money import largest_remainder, round_half_up

Policy = Literal["scale", "gap_by_weight", "max"]
POLICIES: tuple[Policy, ...] = ("scale", "gap_by_weight", "max")
COVERAGE_PLACES = Decimal("0.0001")
# As in allocation: enough digits that an exact share is never mis-rounded.
PRECISION = 50
NO_PROPOSAL = "no proposal; its top-down share counted as its proposal"


class ReconcileError(InputError):
    """A reconciliation that cannot be made."""


@dataclass(frozen=True)
class BottomUp:
    """What the children's owners proposed, against the parent's target."""

    total: Decimal
    gap: Decimal
    coverage: Decimal
    missing: int


@dataclass(frozen=True)
class Reconciled:
    """One child's line: `proposal` is None when its owner proposed nothing."""

    proposal: Decimal | None
    top_down: Decimal
    final: Decimal
    negotiate: bool
    note: str | None = None


def summarise(target: Decimal, proposals: Sequence[Decimal | None]) -> BottomUp:
    """The sum of the proposals made, its gap to `target` (positive when the
    proposals fall short), their coverage of it (4 places) and how many
    children have not proposed yet."""
    _check_target(target)
    total = sum((p for p in proposals if p is not None), Decimal(0))
    return BottomUp(
        total=total,
        gap=target - total,
        coverage=round_half_up(total / target, COVERAGE_PLACES),
        missing=sum(1 for p in proposals if p is None),
    )


def reconcile(
    target: Decimal,
    top_down: Sequence[Decimal],
    proposals: Sequence[Decimal | None],
    policy: Policy,
    *,
    weights: Sequence[Decimal] | None = None,
    unit: Decimal = Decimal(1),
    threshold: Decimal = Decimal("0.2"),
) -> list[Reconciled]:
    """Final targets from the top-down shares and the proposals.

    `target` is what the children must add up to (the parent's target * any
    stretch), rounded half-up to `unit` as allocate rounds it. A child without a proposal counts its
    top-down share as one. `scale` scales the proposals to the target;
    `gap_by_weight` gives each child its proposal plus its share (by `weights`,
    default the top-down shares) of the gap, which may be negative, never
    going below 0; both add up to the target exactly. `max` takes the larger of
    proposal and top-down share per child, so its finals add up to the target
    or more. A child is flagged for negotiation when its final exceeds its
    proposal by more than `threshold` (0.2 = 20%)."""
    _check_inputs(target, top_down, proposals, policy, weights, unit, threshold)
    target = round_half_up(target, unit)
    asked = [top if p is None else p for p, top in zip(proposals, top_down, strict=True)]
    notes: list[list[str]] = [[NO_PROPOSAL] if p is None else [] for p in proposals]
    with localcontext() as context:
        context.prec = PRECISION
        if policy == "scale":
            finals = _scaled(target, asked, top_down, unit, notes)
        elif policy == "gap_by_weight":
            finals = _gap_by_weight(
                target, asked, list(top_down if weights is None else weights), unit
            )
        else:
            finals = [
                round_half_up(max(p, top), unit) for p, top in zip(asked, top_down, strict=True)
            ]
    return [
        Reconciled(
            proposal=proposal,
            top_down=top,
            final=final,
            negotiate=final > p * (1 + threshold),
            note="; ".join(note) or None,
        )
        for proposal, p, top, final, note in zip(
            proposals, asked, top_down, finals, notes, strict=True
        )
    ]


def _scaled(
    target: Decimal,
    asked: list[Decimal],
    top_down: Sequence[Decimal],
    unit: Decimal,
    notes: list[list[str]],
) -> list[Decimal]:
    if any(asked):
        return largest_remainder(target, asked, unit)
    if not any(top_down):
        raise ReconcileError("proposals", "the proposals and the top-down shares are all 0")
    for note in notes:
        note.append("all proposals are 0; kept the top-down share")
    return largest_remainder(target, top_down, unit)


def _gap_by_weight(
    target: Decimal, asked: list[Decimal], weights: list[Decimal], unit: Decimal
) -> list[Decimal]:
    """Proposal + a share of the gap by weight. When the gap is negative, a child
    that would go below 0 is held at 0 and the rest of the gap re-split between
    the others (children with weight 0 share it equally only when every child
    with a weight is at 0). The exact finals are then rounded to the unit by
    largest remainder, which keeps their sum."""
    at_zero: set[int] = set()
    while True:
        free = [i for i in range(len(asked)) if i not in at_zero]
        gap = target - sum((asked[i] for i in free), Decimal(0))
        free_weights = [weights[i] for i in free]
        if not any(free_weights):
            free_weights = [Decimal(1)] * len(free)
        whole = sum(free_weights, Decimal(0))
        exact = {i: asked[i] + gap * w / whole for i, w in zip(free, free_weights, strict=True)}
        below = {i for i, final in exact.items() if final < 0}
        if not below:
            break
        # Holding these at 0 puts the sum above the target, so the true split
        # gives every child a smaller share of the gap: they stay below 0 there.
        at_zero |= below
    # The exact finals add up to the target, so splitting it by them rounds each.
    return largest_remainder(target, [exact.get(i, Decimal(0)) for i in range(len(asked))], unit)


def _check_target(target: Decimal) -> None:
    if target <= 0:
        raise ReconcileError("target", f"the target must be positive, not {target}")


def _check_inputs(
    target: Decimal,
    top_down: Sequence[Decimal],
    proposals: Sequence[Decimal | None],
    policy: str,
    weights: Sequence[Decimal] | None,
    unit: Decimal,
    threshold: Decimal,
) -> None:
    _check_target(target)
    if policy not in POLICIES:
        raise ReconcileError("policy", f"policy must be one of {', '.join(POLICIES)}")
    if unit <= 0:
        raise ReconcileError("unit", f"unit must be positive, not {unit}")
    if threshold < 0:
        raise ReconcileError("threshold", f"threshold must not be negative, not {threshold}")
    if not top_down:
        raise ReconcileError("top_down", "there are no children to reconcile")
    if len(proposals) != len(top_down):
        raise ReconcileError(
            "proposals", f"{len(proposals)} proposals for {len(top_down)} children"
        )
    if any(p is not None and p < 0 for p in proposals):
        raise ReconcileError("proposals", "proposals must not be negative")
    if any(top < 0 for top in top_down):
        raise ReconcileError("top_down", "top-down shares must not be negative")
    if weights is not None:
        if len(weights) != len(top_down):
            raise ReconcileError("weights", f"{len(weights)} weights for {len(top_down)} children")
        if any(w < 0 for w in weights):
            raise ReconcileError("weights", "weights must not be negative")
