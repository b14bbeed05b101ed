"""Top-down decomposition by weights (DOMAIN.md §5.1, and §5.3 over product
lines): the weights each child gets, and a split of the parent's target that
keeps per-child floors and caps and adds up to the parent's target * stretch
exactly, to the goal's unit."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

from attain_contracts import Period
from goal_service.domain.errors import InputError
from servicekit.money import largest_remainder, round_half_up, round_to

# Enough digits that a share's exact value is never rounded into the wrong unit
# before the split rounds it on purpose.
PRECISION = 50

NO_CHILDREN = "there are no children to split between"

# A new rep's share of a full quota in their first, second and third month
# (counting the month of hire as the first); from the fourth month on, 1.
RAMP = (Decimal("0.25"), Decimal("0.5"), Decimal("0.75"))


class AllocationError(InputError):
    """A split that cannot be made."""


@dataclass(frozen=True)
class Weights:
    """One weight per child, and a note when a fallback chose them."""

    values: list[Decimal]
    note: str | None = None


def allocate(
    total: Decimal,
    weights: Sequence[Decimal],
    *,
    unit: Decimal = Decimal(1),
    stretch: Decimal = Decimal(1),
    floors: Sequence[Decimal | None] | None = None,
    caps: Sequence[Decimal | None] | None = None,
) -> list[Decimal]:
    """Split `total * stretch` (rounded half-up to `unit`) between the children
    in proportion to `weights`, each share a multiple of `unit` within its floor
    and cap, the shares adding up exactly.

    A child whose proportional share breaks its bound is held at that bound and
    the rest is re-split between the others. Floors are rounded up to the unit
    and caps down, so that rounding the shares never breaks a bound. Children
    with weight 0 get their floor; only when every child with a weight is held
    at its cap does the rest go to them, equally. All weights 0: equal split."""
    count = len(weights)
    if count == 0:
        raise AllocationError("weights", NO_CHILDREN)
    if any(weight < 0 for weight in weights):
        raise AllocationError("weights", "weights must not be negative")
    if stretch <= 0:
        raise AllocationError("stretch", f"stretch must be positive, not {stretch}")
    if unit <= 0:
        raise AllocationError("unit", f"unit must be positive, not {unit}")
    if total < 0:
        raise AllocationError("total", f"the total must not be negative, not {total}")
    target = round_half_up(total * stretch, unit)
    low = _rounded_bounds("floors", floors, count, unit, ROUND_CEILING)
    high = _rounded_bounds("caps", caps, count, unit, ROUND_FLOOR)
    _check_feasible(target, low, high, floors, caps)
    with localcontext() as context:
        context.prec = PRECISION
        return _split_within_bounds(target, list(weights), low, high, unit)


def _rounded_bounds(
    field: str,
    bounds: Sequence[Decimal | None] | None,
    count: int,
    unit: Decimal,
    rounding: str,
) -> list[Decimal | None]:
    if bounds is None:
        return [None] * count
    if len(bounds) != count:
        raise AllocationError(field, f"{len(bounds)} {field} for {count} children")
    if any(bound is not None and bound < 0 for bound in bounds):
        raise AllocationError(field, f"{field} must not be negative")
    return [None if bound is None else round_to(bound, unit, rounding) for bound in bounds]


def _check_feasible(
    target: Decimal,
    low: list[Decimal | None],
    high: list[Decimal | None],
    floors: Sequence[Decimal | None] | None,
    caps: Sequence[Decimal | None] | None,
) -> None:
    for index, (floor, cap) in enumerate(zip(low, high, strict=True)):
        if floor is not None and cap is not None and floor > cap:
            raw_floor = floors[index] if floors else floor
            raw_cap = caps[index] if caps else cap
            raise AllocationError(
                "floors",
                f"child {index + 1}: no multiple of the unit lies between its floor "
                f"{raw_floor} and its cap {raw_cap}",
            )
    floor_sum = sum((floor for floor in low if floor is not None), Decimal(0))
    if floor_sum > target:
        raise AllocationError(
            "floors", f"the floors add up to {floor_sum}, more than the total {target}"
        )
    if all(cap is not None for cap in high):
        cap_sum = sum((cap for cap in high if cap is not None), Decimal(0))
        if cap_sum < target:
            raise AllocationError(
                "caps", f"the caps add up to {cap_sum}, less than the total {target}"
            )


def _split_within_bounds(
    target: Decimal,
    weights: list[Decimal],
    low: list[Decimal | None],
    high: list[Decimal | None],
    unit: Decimal,
) -> list[Decimal]:
    held: dict[int, Decimal] = {}
    while True:
        free = [index for index in range(len(weights)) if index not in held]
        rest = target - sum(held.values(), Decimal(0))
        free_weights = _equal_if_all_zero([weights[index] for index in free])
        whole = sum(free_weights, Decimal(0))
        exact = {
            index: rest * weight / whole for index, weight in zip(free, free_weights, strict=True)
        }
        under = {i: f for i, share in exact.items() if (f := low[i]) is not None and share < f}
        over = {i: c for i, share in exact.items() if (c := high[i]) is not None and share > c}
        if not under and not over:
            break
        # Holding the side that breaks its bounds by more is always right: if
        # the children under their floors lack more than those over their caps
        # have too much, the true split gives every free child less, so those
        # under their floors stay there (and the other way round).
        shortfall = sum((floor - exact[i] for i, floor in under.items()), Decimal(0))
        excess = sum((exact[i] - cap for i, cap in over.items()), Decimal(0))
        if shortfall >= excess:
            held.update(under)
        if excess >= shortfall:
            held.update(over)
    shares = dict(held)
    if free:
        shares.update(zip(free, largest_remainder(rest, free_weights, unit), strict=True))
    return [shares[index] for index in range(len(weights))]


def _equal_if_all_zero(weights: list[Decimal]) -> list[Decimal]:
    return weights if any(weights) else [Decimal(1)] * len(weights)


def equal(count: int) -> Weights:
    if count < 1:
        raise AllocationError("weights", NO_CHILDREN)
    return Weights([Decimal(1)] * count)


def given(values: Sequence[Decimal]) -> Weights:
    return _non_negative(values, "the given weights")


def potential(values: Sequence[Decimal]) -> Weights:
    """A number per child that says how much it could sell (market size, say)."""
    return _non_negative(values, "the potentials")


def history(actuals: Sequence[Decimal | None], names: Sequence[str] | None = None) -> Weights:
    """Each child's actuals in a reference period; a child with none (None)
    counts 0, and so do net negative actuals (more reversed than won). The
    note names the children by `names` (default: child 1, 2...)."""
    if not actuals:
        raise AllocationError("weights", NO_CHILDREN)
    if names is not None and len(names) != len(actuals):
        raise AllocationError("names", f"{len(names)} names for {len(actuals)} children")
    values = [Decimal(0) if actual is None else max(actual, Decimal(0)) for actual in actuals]
    notes = []
    negative = [i for i, actual in enumerate(actuals) if actual is not None and actual < 0]
    if negative and names is not None:
        notes.append(f"negative actuals counted as 0 ({', '.join(names[i] for i in negative)})")
    elif negative:
        numbers = ", ".join(str(i + 1) for i in negative)
        notes.append(f"negative actuals counted as 0 (child {numbers})")
    if not any(values):
        notes.append("no child has actuals in the reference period; split equally")
        values = [Decimal(1)] * len(values)
    return Weights(values, "; ".join(notes) or None)


def ramp(hired_on: date, month_start: date) -> Decimal:
    """A rep's share of a full quota in the month of `month_start` (any day of
    it): 0 before the month of hire, then 25/50/75% in the first three months
    counting the month of hire as the first, 100% after (DOMAIN.md §5.1)."""
    months_in = (month_start.year - hired_on.year) * 12 + month_start.month - hired_on.month
    if months_in < 0:
        return Decimal(0)
    return RAMP[months_in] if months_in < len(RAMP) else Decimal(1)


def capacity(hire_dates: Sequence[Sequence[date]], period: Period) -> Weights:
    """Headcount * ramp: per child, the sum over its reps (given by their hire
    dates) of each rep's mean ramp over the calendar months the period touches."""
    if not hire_dates:
        raise AllocationError("weights", NO_CHILDREN)
    months = _months_touched(period)
    values = [sum((_mean_ramp(hired, months) for hired in reps), Decimal(0)) for reps in hire_dates]
    if not any(values):
        return Weights(
            [Decimal(1)] * len(values), "no child has a rep in the period; split equally"
        )
    return Weights(values)


def _mean_ramp(hired_on: date, months: list[date]) -> Decimal:
    return sum((ramp(hired_on, month) for month in months), Decimal(0)) / len(months)


def _months_touched(period: Period) -> list[date]:
    months = []
    month = period.start.replace(day=1)
    while month <= period.end:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def blend(
    history_values: Sequence[Decimal | None],
    potential_values: Sequence[Decimal],
    alpha: Decimal,
    names: Sequence[str] | None = None,
) -> Weights:
    """alpha * each child's share of the history + (1 - alpha) * its share of the
    potential, each side normalised first so neither dominates by its scale."""
    if not Decimal(0) <= alpha <= Decimal(1):
        raise AllocationError("alpha", f"alpha must be between 0 and 1, not {alpha}")
    if len(history_values) != len(potential_values):
        raise AllocationError(
            "weights",
            f"{len(history_values)} history values for {len(potential_values)} potentials",
        )
    past, able = history(history_values, names), potential(potential_values)
    past_whole, able_whole = sum(past.values, Decimal(0)), sum(able.values, Decimal(0))
    values = [
        alpha * h / past_whole + (1 - alpha) * p / able_whole
        for h, p in zip(past.values, able.values, strict=True)
    ]
    notes = [f"{side}: {w.note}" for side, w in (("history", past), ("potential", able)) if w.note]
    return Weights(values, "; ".join(notes) or None)


def _non_negative(values: Sequence[Decimal], what: str) -> Weights:
    if not values:
        raise AllocationError("weights", NO_CHILDREN)
    if any(value < 0 for value in values):
        raise AllocationError("weights", f"{what} must not be negative")
    if not any(values):
        return Weights([Decimal(1)] * len(values), f"{what} are all 0; split equally")
    return Weights(list(values))
