"""Top-down splits by weights (DOMAIN.md §5.1) and the weights they use."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given as given_examples
from hypothesis import strategies as st

from attain_contracts import Period
from goal_service.domain.allocation import (
    AllocationError,
    allocate,
    blend,
    capacity,
    equal,
    given,
    history,
    potential,
    ramp,
)
from servicekit.money import round_half_up

pytestmark = pytest.mark.unit

D = Decimal
Q1_2026 = Period(key="FY2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31))

units = st.sampled_from([D(1), D("0.01"), D(1000)])
amounts = st.integers(min_value=0, max_value=10**9).map(D)
Bounds = list[Decimal | None]
Split = tuple[Decimal, list[Decimal], Bounds, Bounds]
weight_lists = st.lists(st.integers(min_value=0, max_value=10**6).map(D), min_size=1, max_size=12)


def test_the_seed_example_splits_by_last_years_revenue() -> None:
    weights = history([D(5_000_000), D(3_000_000), D(2_000_000)])
    assert weights.note is None
    assert allocate(D(12_000_000), weights.values) == [D(6_000_000), D(3_600_000), D(2_400_000)]


def test_a_stretch_makes_the_children_add_up_to_the_stretched_target() -> None:
    shares = allocate(D(12_000_000), [D(5), D(3), D(2)], stretch=D("1.1"))
    assert sum(shares) == D(13_200_000)
    assert shares == [D(6_600_000), D(3_960_000), D(2_640_000)]


def test_the_stretched_total_is_rounded_half_up_to_the_unit() -> None:
    assert sum(allocate(D(15), [D(1), D(1)], stretch=D("1.1"))) == D(17)  # 16.5
    assert sum(allocate(D(15), [D(1), D(1)], stretch=D("1.1"), unit=D(10))) == D(20)


def test_a_unit_may_be_any_amount() -> None:
    assert allocate(D(12_345), [D(1), D(1), D(1)], unit=D(1000)) == [D(4000), D(4000), D(4000)]
    assert allocate(D("1.00"), [D(1), D(1), D(1)], unit=D("0.05")) == [
        D("0.35"),
        D("0.35"),
        D("0.30"),
    ]


def test_leftover_units_go_to_the_largest_remainders_then_the_earliest_child() -> None:
    assert allocate(D(100), [D(1), D(1), D(1)]) == [D(34), D(33), D(33)]
    assert allocate(D(100), [D(1), D(1), D(1)], unit=D("0.01")) == [
        D("33.34"),
        D("33.33"),
        D("33.33"),
    ]


def test_all_weights_zero_split_equally() -> None:
    assert allocate(D(90), [D(0), D(0), D(0)]) == [D(30), D(30), D(30)]


def test_a_child_over_its_cap_is_held_there_and_the_rest_resplit() -> None:
    assert allocate(D(1000), [D(6), D(3), D(1)], caps=[D(400), None, None]) == [
        D(400),
        D(450),
        D(150),
    ]


def test_a_child_under_its_floor_is_raised_to_it_and_the_rest_resplit() -> None:
    assert allocate(D(1000), [D(6), D(3), D(1)], floors=[None, None, D(250)]) == [
        D(500),
        D(250),
        D(250),
    ]


def test_floors_round_up_and_caps_down_to_the_unit() -> None:
    shares = allocate(D(100), [D(1), D(1), D(1)], floors=[D("40.2"), None, None])
    assert shares[0] == D(41)
    shares = allocate(D(100), [D(1), D(1), D(1)], caps=[D("30.5"), None, None])
    assert shares[0] == D(30)


def test_children_without_weight_get_their_floor_until_the_weighted_are_all_capped() -> None:
    assert allocate(D(100), [D(1), D(0), D(0)], floors=[None, D(10), None]) == [
        D(90),
        D(10),
        D(0),
    ]
    assert allocate(
        D(100), [D(1), D(0), D(0)], caps=[D(30), None, None], floors=[None, D(60), None]
    ) == [D(30), D(60), D(10)]
    assert allocate(D(100), [D(1), D(0), D(0)], caps=[D(30), None, None]) == [
        D(30),
        D(35),
        D(35),
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"weights": []}, "weights"),
        ({"weights": [D(1), D(-1)]}, "weights"),
        ({"stretch": D(0)}, "stretch"),
        ({"stretch": D("-1.1")}, "stretch"),
        ({"unit": D(0)}, "unit"),
        ({"total": D(-1)}, "total"),
        ({"floors": [D(60), D(50)]}, "floors"),
        ({"floors": [D(10)]}, "floors"),
        ({"floors": [D(-1), None]}, "floors"),
        ({"caps": [D(40), D(50)]}, "caps"),
        ({"caps": [D(40)]}, "caps"),
        ({"caps": [D(-1), None]}, "caps"),
        ({"floors": [D(30), None], "caps": [D(20), None]}, "floors"),
        # Nothing between a floor of 20.2 and a cap of 20.8 is a whole unit.
        ({"floors": [D("20.2"), None], "caps": [D("20.8"), None]}, "floors"),
    ],
)
def test_impossible_splits_name_the_input_at_fault(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"total": D(100), "weights": [D(1), D(1)]} | kwargs
    with pytest.raises(AllocationError) as error:
        allocate(**arguments)  # type: ignore[arg-type]
    assert error.value.field == field
    assert isinstance(error.value, ValueError)


@given_examples(total=amounts, weights=weight_lists, unit=units)
def test_shares_add_up_exactly_and_stay_within_a_unit_of_proportional(
    total: Decimal, weights: list[Decimal], unit: Decimal
) -> None:
    shares = allocate(total, weights, unit=unit)
    target = (total / unit).quantize(D(1), ROUND_HALF_UP) * unit
    assert sum(shares) == target
    assert all(share >= 0 and share % unit == 0 for share in shares)
    effective = weights if any(weights) else [D(1)] * len(weights)
    whole = sum(effective)
    for share, weight in zip(shares, effective, strict=True):
        assert abs(share - target * weight / whole) <= unit


@given_examples(total=amounts, weights=weight_lists, stretch=st.decimals("0.5", "2", places=2))
def test_stretched_shares_add_up_to_the_rounded_stretched_total(
    total: Decimal, weights: list[Decimal], stretch: Decimal
) -> None:
    assert sum(allocate(total, weights, stretch=stretch)) == round_half_up(total * stretch, D(1))


@st.composite
def bounded_splits(draw: st.DrawFn) -> Split:
    """A feasible split: positive weights, and per child maybe a floor, a cap or both."""
    count = draw(st.integers(min_value=1, max_value=8))
    weights = [D(draw(st.integers(min_value=1, max_value=1000))) for _ in range(count)]
    floors: list[Decimal | None] = []
    caps: list[Decimal | None] = []
    for _ in range(count):
        floor = draw(st.none() | st.integers(min_value=0, max_value=500).map(D))
        cap = draw(st.none() | st.integers(min_value=0, max_value=500).map(D))
        if floor is not None and cap is not None and floor > cap:
            floor, cap = cap, floor
        floors.append(floor)
        caps.append(cap)
    low = sum(f for f in floors if f is not None)
    high = sum(c or 0 for c in caps) if all(c is not None for c in caps) else low + 2000
    total = D(draw(st.integers(min_value=int(low), max_value=int(high))))
    return total, weights, floors, caps


@given_examples(split=bounded_splits())
def test_floors_and_caps_hold_and_the_rest_follows_the_weights(
    split: Split,
) -> None:
    total, weights, floors, caps = split
    shares = allocate(total, weights, floors=floors, caps=caps)
    assert sum(shares) == total
    for share, floor, cap in zip(shares, floors, caps, strict=True):
        assert share >= (floor or 0)
        assert cap is None or share <= cap
    for share, exact in zip(shares, _clamped_split(total, weights, floors, caps), strict=True):
        assert abs(Fraction(share) - exact) <= 1


def _clamped_split(
    total: Decimal, weights: list[Decimal], floors: Bounds, caps: Bounds
) -> list[Fraction]:
    """The exact split, independently: share_i = clamp(level * w_i, floor_i, cap_i)
    with the level at which the shares add up to the total, found between the
    levels where some child reaches a bound."""
    w = [Fraction(x) for x in weights]
    lo = [Fraction(f or 0) for f in floors]
    hi = [None if c is None else Fraction(c) for c in caps]

    def shares(level: Fraction) -> list[Fraction]:
        clamped = [max(level * wi, li) for wi, li in zip(w, lo, strict=True)]
        return [s if h is None else min(s, h) for s, h in zip(clamped, hi, strict=True)]

    levels = sorted(
        {Fraction(0)}
        | {li / wi for li, wi in zip(lo, w, strict=True)}
        | {h / wi for h, wi in zip(hi, w, strict=True) if h is not None}
    )
    target = Fraction(total)
    below = levels[0]
    for level in levels:
        if sum(shares(level)) >= target:
            break
        below = level
    else:
        level = below + target  # beyond the last bound only uncapped children grow
    # Between two adjacent levels the sum is linear in the level.
    s_below, s_level = sum(shares(below)), sum(shares(level))
    if s_level == s_below:
        return shares(level)
    return shares(below + (level - below) * (target - s_below) / (s_level - s_below))


@given_examples(total=amounts, weights=weight_lists, unit=units)
def test_splitting_the_shares_by_themselves_gives_them_back(
    total: Decimal, weights: list[Decimal], unit: Decimal
) -> None:
    shares = allocate(total, weights, unit=unit)
    assert allocate(total, weights, unit=unit) == shares
    if any(shares):
        assert allocate(sum(shares, D(0)), shares, unit=unit) == shares


def test_equal_and_given_weights() -> None:
    assert equal(3).values == [D(1), D(1), D(1)]
    assert given([D(2), D(1)]).values == [D(2), D(1)]
    assert given([D(0), D(0)]).values == [D(1), D(1)]
    assert given([D(0), D(0)]).note is not None
    with pytest.raises(AllocationError, match="no children"):
        equal(0)
    with pytest.raises(AllocationError, match="negative"):
        given([D(1), D(-1)])


def test_potential_weights_fall_back_to_equal_when_all_are_zero() -> None:
    assert potential([D(300), D(100)]).values == [D(300), D(100)]
    assert potential([D(0), D(0)]).note == "the potentials are all 0; split equally"
    with pytest.raises(AllocationError):
        potential([D(-5), D(10)])


def test_history_without_any_actuals_splits_equally_and_says_so() -> None:
    for actuals in ([D(0), D(0)], [None, None], [D(0), D(-10)]):
        weights = history(actuals)
        assert weights.values == [D(1), D(1)]
        assert weights.note is not None
        assert "split equally" in weights.note
    with pytest.raises(AllocationError, match="no children"):
        history([])


def test_history_counts_negative_actuals_and_missing_ones_as_zero() -> None:
    weights = history([D(500), D(-20), None])
    assert weights.values == [D(500), D(0), D(0)]
    assert weights.note == "negative actuals counted as 0 (child 2)"


def test_history_names_the_children_it_counted_as_zero() -> None:
    names = ["Ann Lee (ann)", "Bob Ma (bob)", "Cai Yu (cai)"]
    weights = history([D(500), D(-20), D(-1)], names=names)
    assert weights.note == "negative actuals counted as 0 (Bob Ma (bob), Cai Yu (cai))"
    mixed = blend([D(-3), D(0)], [D(1), D(1)], D("0.5"), names=names[:2])
    assert mixed.note is not None and "Ann Lee (ann)" in mixed.note
    with pytest.raises(AllocationError) as error:
        history([D(1)], names=names)
    assert error.value.field == "names"


@pytest.mark.parametrize(
    ("hired_on", "month", "share"),
    [
        (date(2026, 1, 31), date(2025, 12, 1), D(0)),
        (date(2026, 1, 31), date(2026, 1, 1), D("0.25")),
        (date(2026, 1, 31), date(2026, 2, 1), D("0.5")),
        (date(2026, 1, 31), date(2026, 3, 1), D("0.75")),
        (date(2026, 1, 31), date(2026, 4, 1), D(1)),
        (date(2026, 1, 31), date(2027, 1, 1), D(1)),
        (date(2026, 1, 1), date(2026, 1, 31), D("0.25")),  # any day names its month
        (date(2025, 11, 15), date(2026, 1, 1), D("0.75")),  # across the year end
        (date(2025, 11, 15), date(2026, 2, 1), D(1)),
    ],
)
def test_a_new_rep_ramps_up_over_three_months_from_the_month_of_hire(
    hired_on: date, month: date, share: Decimal
) -> None:
    assert ramp(hired_on, month) == share


def test_capacity_is_the_sum_of_each_reps_mean_ramp_over_the_period() -> None:
    weights = capacity(
        [
            [date(2020, 5, 1), date(2026, 1, 10)],  # 1 + (0.25 + 0.5 + 0.75) / 3
            [date(2026, 4, 1)],  # hired after the quarter
            [],
            [date(2025, 12, 31)],  # (0.5 + 0.75 + 1) / 3
        ],
        Q1_2026,
    )
    assert weights.values == [D("1.5"), D(0), D(0), D("0.75")]
    assert weights.note is None


def test_capacity_counts_every_month_the_period_touches() -> None:
    fortnight = Period(start=date(2026, 1, 25), end=date(2026, 2, 7))
    assert capacity([[date(2026, 1, 5)]], fortnight).values == [D("0.375")]


def test_capacity_without_any_rep_splits_equally_and_says_so() -> None:
    weights = capacity([[], [date(2026, 7, 1)]], Q1_2026)
    assert weights.values == [D(1), D(1)]
    assert weights.note == "no child has a rep in the period; split equally"


def test_blend_mixes_the_normalised_history_and_potential() -> None:
    past, able = [D(800), D(200)], [D(1), D(3)]
    assert blend(past, able, D(1)).values == [D("0.8"), D("0.2")]
    assert blend(past, able, D(0)).values == [D("0.25"), D("0.75")]
    assert blend(past, able, D("0.5")).values == [D("0.525"), D("0.475")]
    assert blend(past, able, D("0.5")).note is None


def test_blend_passes_on_the_fallback_notes() -> None:
    weights = blend([D(0), D(0)], [D(1), D(3)], D("0.5"))
    assert weights.values == [D("0.375"), D("0.625")]
    assert weights.note is not None
    assert weights.note.startswith("history: ")


@pytest.mark.parametrize("alpha", [D("-0.1"), D("1.01")])
def test_blend_refuses_an_alpha_outside_zero_to_one(alpha: Decimal) -> None:
    with pytest.raises(AllocationError) as error:
        blend([D(1)], [D(1)], alpha)
    assert error.value.field == "alpha"


def test_blend_needs_as_many_history_values_as_potentials() -> None:
    with pytest.raises(AllocationError) as error:
        blend([D(1), D(2)], [D(1)], D("0.5"))
    assert error.value.field == "weights"


@given_examples(
    total=st.decimals("0", "10000", places=2),
    children=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=5).map(D),
            st.none() | st.decimals("0", "3000", places=2),
            st.none() | st.decimals("0", "3000", places=2),
        ),
        min_size=1,
        max_size=6,
    ),
    unit=st.sampled_from([D(1), D(10), D("0.05")]),
)
def test_any_split_either_keeps_every_bound_or_says_which_input_cannot(
    total: Decimal, children: list[tuple[Decimal, Decimal | None, Decimal | None]], unit: Decimal
) -> None:
    weights = [weight for weight, _, _ in children]
    floors = [floor for _, floor, _ in children]
    caps = [cap for _, _, cap in children]
    try:
        shares = allocate(total, weights, unit=unit, floors=floors, caps=caps)
    except AllocationError as error:
        assert error.field in {"floors", "caps"}
        return
    assert sum(shares) == (total / unit).quantize(D(1), ROUND_HALF_UP) * unit
    for share, floor, cap in zip(shares, floors, caps, strict=True):
        assert share % unit == 0
        assert share >= (floor or 0)
        assert cap is None or share <= cap
