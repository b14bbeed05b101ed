"""Exact splits by largest remainder, and half-up rounding."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicekit.money import largest_remainder, round_half_up

pytestmark = pytest.mark.unit


def test_the_seed_example_splits_by_history_weights() -> None:
    shares = largest_remainder(
        Decimal(12_000_000), [Decimal(5), Decimal(3), Decimal(2)], Decimal(1)
    )
    assert shares == [Decimal(6_000_000), Decimal(3_600_000), Decimal(2_400_000)]


def test_leftover_cents_go_to_the_largest_remainders_then_the_earliest() -> None:
    assert largest_remainder(Decimal("100.00"), [Decimal(1)] * 3) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert largest_remainder(Decimal("-100.00"), [Decimal(1)] * 3) == [
        Decimal("-33.34"),
        Decimal("-33.33"),
        Decimal("-33.33"),
    ]


def test_half_up_to_the_cent() -> None:
    assert round_half_up(Decimal("2.345")) == Decimal("2.35")
    assert round_half_up(Decimal("-2.345")) == Decimal("-2.35")


@pytest.mark.parametrize(
    ("total", "weights", "message"),
    [
        (Decimal(1), [], "nothing to split"),
        (Decimal(1), [Decimal(0)], "all be zero"),
        (Decimal(1), [Decimal(-1), Decimal(2)], "negative"),
        (Decimal("0.001"), [Decimal(1)], "multiple"),
    ],
)
def test_impossible_splits_are_refused(
    total: Decimal, weights: list[Decimal], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        largest_remainder(total, weights)


@given(
    cents=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(
        any
    ),
)
def test_shares_add_up_exactly_and_stay_within_a_cent_of_exact(
    cents: int, weights: list[int]
) -> None:
    total = Decimal(cents) / 100
    shares = largest_remainder(total, [Decimal(w) for w in weights])
    assert sum(shares) == total
    whole = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - total * weight / whole) < Decimal("0.01")
