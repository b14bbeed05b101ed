"""Growth levers (DOMAIN.md §5.7): an outcome that is the product of its
drivers (revenue = leads * conversion * deal size), and a target for each
driver that makes the product reach the outcome's target."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from goal_service.domain.errors import InputError
from servicekit.money import round_half_up

# ln and exp of Decimal are correctly rounded to the context's precision; 60
# digits leave the targets, rounded to a few places, unaffected by it.
PRECISION = 60


class LeverError(InputError):
    """Levers that cannot be set."""


@dataclass(frozen=True)
class Driver:
    """One factor of the outcome: its baseline (last period's value), its
    target when already decided, its weight in spreading the growth, and the
    decimal places its target is rounded to."""

    name: str
    baseline: Decimal
    target: Decimal | None = None
    weight: Decimal | None = None
    places: int = 4


@dataclass(frozen=True)
class Levers:
    """The drivers' targets in the drivers' order, and the outcome they
    actually imply once rounded (to show the rounding gap to the outcome's
    target)."""

    targets: list[Decimal]
    implied_outcome: Decimal


def solve(outcome_target: Decimal, drivers: Sequence[Driver]) -> Levers:
    """The target of the one driver left without one, so that the product of
    all the targets is the outcome's target (before rounding it to its places)."""
    _check(outcome_target, drivers)
    open_drivers = [driver for driver in drivers if driver.target is None]
    if len(open_drivers) != 1:
        named = ", ".join(driver.name for driver in open_drivers) or "none"
        raise LeverError(
            "drivers", f"exactly one driver must be left without a target to solve; open: {named}"
        )
    if any(driver.target is not None and driver.target <= 0 for driver in drivers):
        raise LeverError("drivers", "a driver's target must be positive")
    with localcontext() as context:
        context.prec = PRECISION
        fixed = _product(driver.target for driver in drivers if driver.target is not None)
        solved = _rounded(outcome_target / fixed, open_drivers[0].places)
        targets = [solved if driver.target is None else driver.target for driver in drivers]
        return Levers(targets, _product(targets))


def spread(outcome_target: Decimal, drivers: Sequence[Driver]) -> Levers:
    """Spread the growth g = outcome target / product of the baselines over the
    drivers: driver i's target = baseline_i * g ** (w_i / sum of w), so each
    driver's share of the log-growth is its share of the weights (equal when
    no driver has a weight, or all weights are 0)."""
    _check(outcome_target, drivers)
    decided = [driver.name for driver in drivers if driver.target is not None]
    if decided:
        raise LeverError(
            "drivers", f"spread sets every driver's target; {', '.join(decided)} already has one"
        )
    weights = _weights(drivers)
    whole = sum(weights, Decimal(0))
    with localcontext() as context:
        context.prec = PRECISION
        log_growth = (outcome_target / _product(driver.baseline for driver in drivers)).ln()
        targets = [
            _rounded(driver.baseline * (log_growth * weight / whole).exp(), driver.places)
            for driver, weight in zip(drivers, weights, strict=True)
        ]
        return Levers(targets, _product(targets))


def _check(outcome_target: Decimal, drivers: Sequence[Driver]) -> None:
    if outcome_target <= 0:
        raise LeverError(
            "outcome_target", f"the outcome's target must be positive, not {outcome_target}"
        )
    if not drivers:
        raise LeverError("drivers", "there are no drivers")
    for driver in drivers:
        if driver.baseline <= 0:
            raise LeverError("drivers", f"{driver.name}: the baseline must be positive")
        if driver.places < 0:
            raise LeverError("drivers", f"{driver.name}: places must not be negative")


def _weights(drivers: Sequence[Driver]) -> list[Decimal]:
    weights = [driver.weight for driver in drivers]
    if all(weight is None for weight in weights):
        return [Decimal(1)] * len(drivers)
    given = [weight for weight in weights if weight is not None]
    if len(given) != len(weights):
        raise LeverError("drivers", "give every driver a weight, or none")
    if any(weight < 0 for weight in given):
        raise LeverError("drivers", "weights must not be negative")
    return given if any(given) else [Decimal(1)] * len(drivers)


def _product(values: Iterable[Decimal]) -> Decimal:
    result = Decimal(1)
    for value in values:
        result *= value
    return result


def _rounded(value: Decimal, places: int) -> Decimal:
    return round_half_up(value, Decimal(1).scaleb(-places))
