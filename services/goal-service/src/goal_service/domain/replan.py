"""Re-plan (差异抚平, DOMAIN.md §5.8): when a goal falls behind, what is left of
its target is spread over the child periods not yet over, by the seasonality
they already have. The goal's own target stays as it is."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from attain_contracts import Period
from goal_service.domain.errors import InputError
from servicekit.money import largest_remainder


class ReplanError(InputError):
    """Nothing that can be re-planned."""

    def __init__(self, reason: str) -> None:
        super().__init__("as_of", reason)


@dataclass(frozen=True)
class ChildPlan:
    period: Period
    target: Decimal
    actual: Decimal


@dataclass(frozen=True)
class Replan:
    """The proposed targets, one per child in the order given. `remaining` is
    the target less what the closed children achieved; `behind_by` is what
    the closed children fell short of their targets (negative when ahead);
    `achieved` says the closed children already made the whole target, so the
    open ones are proposed 0."""

    targets: list[Decimal]
    remaining: Decimal
    open_count: int
    behind_by: Decimal
    achieved: bool


def replan(
    target: Decimal, children: Sequence[ChildPlan], as_of: date, unit: Decimal = Decimal(1)
) -> Replan:
    """A child whose period ended before `as_of` is closed and keeps its target;
    the others, the current one included, share what is left in proportion to
    their current targets, or to their calendar days when those are all 0.
    What the current child achieved so far is not subtracted: its new target
    still covers its whole period. When actuals are not whole units, what is
    left is rounded up to the unit, so the plan never falls short of `target`."""
    closed = [child.period.end < as_of for child in children]
    open_children = [child for child, done in zip(children, closed, strict=True) if not done]
    if not open_children:
        raise ReplanError("no period left to re-plan")
    if negative := [str(child.target) for child in open_children if child.target < 0]:
        raise ReplanError(f"open children have negative targets {negative}")
    done_children = [child for child, done in zip(children, closed, strict=True) if done]
    remaining = target - sum((child.actual for child in done_children), Decimal(0))
    behind_by = sum((child.target - child.actual for child in done_children), Decimal(0))

    achieved = remaining <= 0
    if achieved:
        shares = [Decimal(0)] * len(open_children)
    else:
        weights = [child.target for child in open_children]
        if not any(weights):
            weights = [Decimal((c.period.end - c.period.start).days + 1) for c in open_children]
        to_share = (remaining / unit).to_integral_value(ROUND_CEILING) * unit
        shares = largest_remainder(to_share, weights, unit)

    open_shares = iter(shares)
    targets = [
        child.target if done else next(open_shares)
        for child, done in zip(children, closed, strict=True)
    ]
    return Replan(
        targets=targets,
        remaining=remaining,
        open_count=len(open_children),
        behind_by=behind_by,
        achieved=achieved,
    )
