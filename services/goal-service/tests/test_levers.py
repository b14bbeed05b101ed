"""Growth levers over multiplicative drivers (DOMAIN.md §5.7)."""

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from goal_service.domain.levers import Driver, LeverError, Levers, solve, spread

pytestmark = pytest.mark.unit

D = Decimal
OUTCOME = D(12_000_000)


def test_solve_finds_the_driver_left_open() -> None:
    drivers = [
        Driver("leads", D(800), target=D(1000)),
        Driver("conversion", D("0.2"), target=D("0.2")),
        Driver("deal_size", D(50_000)),
    ]
    assert solve(OUTCOME, drivers) == Levers([D(1000), D("0.2"), D(60_000)], OUTCOME)


def test_the_solved_target_is_rounded_to_its_places_and_the_gap_shown() -> None:
    drivers = [
        Driver("leads", D(800), target=D(1000)),
        Driver("conversion", D("0.2")),  # 0.218181...
        Driver("deal_size", D(50_000), target=D(55_000)),
    ]
    levers = solve(OUTCOME, drivers)
    assert levers.targets[1] == D("0.2182")
    assert levers.implied_outcome == D(12_001_000)


@pytest.mark.parametrize(
    ("drivers", "message"),
    [
        ([Driver("a", D(1)), Driver("b", D(1))], "open: a, b"),
        ([Driver("a", D(1), target=D(2))], "open: none"),
        ([Driver("a", D(0)), Driver("b", D(1), target=D(2))], "a: the baseline must be positive"),
        ([Driver("a", D(1)), Driver("b", D(1), target=D(0))], "target must be positive"),
        ([Driver("a", D(1), places=-1), Driver("b", D(1), target=D(2))], "places"),
        ([], "no drivers"),
    ],
)
def test_solve_refuses_what_it_cannot_solve(drivers: list[Driver], message: str) -> None:
    with pytest.raises(LeverError, match=message):
        solve(OUTCOME, drivers)


def test_the_outcome_target_must_be_positive() -> None:
    with pytest.raises(LeverError) as error:
        solve(D(0), [Driver("a", D(1))])
    assert error.value.field == "outcome_target"


def test_spread_shares_the_growth_equally_by_default() -> None:
    drivers = [
        Driver("leads", D(800)),
        Driver("conversion", D("0.2")),
        Driver("deal_size", D(50_000), places=2),
    ]
    # Growth 1.5 over three drivers: each grows by 1.5 ** (1/3) = 1.1447142425...
    assert spread(OUTCOME, drivers).targets == [D("915.7714"), D("0.2289"), D("57235.71")]


def test_a_driver_with_weight_zero_stays_at_its_baseline() -> None:
    drivers = [
        Driver("leads", D(800), weight=D(1)),
        Driver("conversion", D("0.2"), weight=D(0)),
        Driver("deal_size", D(50_000), weight=D(1)),
    ]
    levers = spread(OUTCOME, drivers)
    assert levers.targets[1] == D("0.2")
    # Growth 1.5 over two drivers: each grows by 1.5 ** (1/2) = 1.2247448713...
    assert levers.targets[0] == D("979.7959")


def test_no_growth_keeps_every_baseline() -> None:
    drivers = [Driver("leads", D(800)), Driver("conversion", D("0.2"))]
    assert spread(D(160), drivers) == Levers([D(800), D("0.2")], D(160))


@pytest.mark.parametrize(
    ("drivers", "message"),
    [
        ([Driver("a", D(1), target=D(2)), Driver("b", D(1))], "a already has one"),
        ([Driver("a", D(1), weight=D(1)), Driver("b", D(1))], "every driver a weight"),
        ([Driver("a", D(1), weight=D(-1)), Driver("b", D(1), weight=D(2))], "negative"),
        ([Driver("a", D(-1)), Driver("b", D(1))], "baseline"),
    ],
)
def test_spread_refuses_what_it_cannot_spread(drivers: list[Driver], message: str) -> None:
    with pytest.raises(LeverError, match=message):
        spread(OUTCOME, drivers)


drivers_with_weights = st.lists(
    st.tuples(st.decimals("1", "100000", places=2), st.integers(min_value=0, max_value=5)),
    min_size=1,
    max_size=5,
).filter(lambda pairs: any(weight for _, weight in pairs))


@given(pairs=drivers_with_weights, growth=st.decimals("0.5", "3", places=3))
def test_spread_reaches_the_outcome_and_splits_the_log_growth_by_weight(
    pairs: list[tuple[Decimal, int]], growth: Decimal
) -> None:
    assume(abs(growth.ln()) >= D("0.05"))
    drivers = [Driver(f"d{i}", baseline, weight=D(w)) for i, (baseline, w) in enumerate(pairs)]
    baseline_product = D(1)
    for baseline, _ in pairs:
        baseline_product *= baseline
    outcome = baseline_product * growth
    levers = spread(outcome, drivers)

    # Each target is off by at most half of its last place, 0.00005.
    relative_errors = [D("0.00005") / (target - D("0.00005")) for target in levers.targets]
    assert abs(levers.implied_outcome / outcome - 1) <= sum(relative_errors) * D("1.01")
    whole = sum(w for _, w in pairs)
    for (baseline, weight), target, error in zip(
        pairs, levers.targets, relative_errors, strict=True
    ):
        log_share = (target / baseline).ln() / growth.ln()
        assert abs(log_share - D(weight) / whole) <= error * D("1.01") / abs(growth.ln())
