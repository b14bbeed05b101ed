"""Rounding money the same way everywhere: half-up to the unit, and shares that
add up exactly (largest remainder), as DOMAIN.md §4, §5 and §7 require."""

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_half_up(amount: Decimal, unit: Decimal = CENT) -> Decimal:
    """Any positive unit: a cent, one yuan, or 1,000 for targets in thousands."""
    return round_to(amount, unit, ROUND_HALF_UP)


def round_to(amount: Decimal, unit: Decimal, rounding: str) -> Decimal:
    # `quantize` rounds to a power of ten only; dividing by the unit rounds to any unit.
    rounded = (amount / unit).to_integral_value(rounding=rounding) * unit
    # Keep the unit's places (5000.00, not 5.000E+3), so a figure reads as money.
    exponent = unit.as_tuple().exponent
    return rounded.quantize(unit) if isinstance(exponent, int) and exponent <= 0 else rounded


def largest_remainder(
    total: Decimal, weights: Sequence[Decimal], unit: Decimal = CENT
) -> list[Decimal]:
    """Split `total` (a multiple of `unit`) in proportion to `weights`, each share a
    multiple of `unit`, the shares adding up to `total` exactly: every share is
    rounded down, and the units left over go to the largest remainders (ties to
    the earlier weight, so the result is deterministic)."""
    if not weights:
        raise ValueError("nothing to split between")
    if any(weight < 0 for weight in weights):
        raise ValueError("weights must not be negative")
    whole = sum(weights, Decimal(0))
    if whole == 0:
        raise ValueError("weights must not all be zero")
    if total % unit != 0:
        raise ValueError(f"{total} is not a multiple of {unit}")
    if len(weights) == 1:  # a deal's one owner: most splits, on the hot path of every deal
        return [total]
    exact = [total * weight / whole for weight in weights]
    shares = [round_to(share, unit, ROUND_DOWN) for share in exact]
    left = int((total - sum(shares, Decimal(0))) / unit)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-abs(exact[i] - shares[i]), i))
    step = unit if total >= 0 else -unit
    for index in by_remainder[: abs(left)]:
        shares[index] += step
    return shares
