"""The flat-rate plan's arithmetic and the choice of the plan in force (DOMAIN.md §7)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incentive_service.domain.flat_rate import (
    earning,
    formula,
    in_force,
    period_key,
    plan_in_force,
)

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Terms:
    id: str
    effective_from: date
    effective_to: date | None = None


amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False)
rates = st.decimals(min_value=0, max_value=1, places=6, allow_nan=False)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def plans(draw: st.DrawFn) -> Terms:
    start = draw(days)
    length = draw(st.none() | st.integers(min_value=1, max_value=800))
    plan_id = draw(st.sampled_from(["a", "b", "c", "d", "e"]))
    return Terms(plan_id, start, None if length is None else start + timedelta(days=length))


def test_an_earning_is_the_amount_at_the_rate() -> None:
    assert earning(Decimal("12000.00"), Decimal("0.05")) == Decimal("600.00")
    assert earning(Decimal("999.99"), Decimal("0.035")) == Decimal("35.00")


def test_half_a_cent_rounds_away_from_zero_both_ways() -> None:
    assert earning(Decimal("0.10"), Decimal("0.05")) == Decimal("0.01")
    assert earning(Decimal("-0.10"), Decimal("0.05")) == Decimal("-0.01")
    assert earning(Decimal("0.09"), Decimal("0.05")) == Decimal("0.00")


def test_a_plan_is_in_force_from_its_first_day_until_before_its_end() -> None:
    plan = Terms("p", date(2026, 1, 1), date(2026, 4, 1))
    assert not in_force(plan, date(2025, 12, 31))
    assert in_force(plan, date(2026, 1, 1))
    assert in_force(plan, date(2026, 3, 31))
    assert not in_force(plan, date(2026, 4, 1))
    assert in_force(Terms("open", date(2026, 1, 1)), date(2099, 1, 1))


def test_the_plan_that_took_effect_last_wins() -> None:
    standing = Terms("standing", date(2025, 1, 1))
    spring = Terms("spring", date(2026, 3, 1), date(2026, 6, 1))
    assert plan_in_force([spring, standing], date(2026, 2, 28)) == standing
    assert plan_in_force([spring, standing], date(2026, 3, 1)) == spring
    assert plan_in_force([spring, standing], date(2026, 6, 1)) == standing
    assert plan_in_force([spring], date(2026, 7, 1)) is None
    assert plan_in_force([], date(2026, 7, 1)) is None


def test_period_key_is_the_month() -> None:
    assert period_key(date(2026, 3, 31)) == "2026-03"
    assert period_key(date(2026, 12, 1)) == "2026-12"
    assert period_key(date(999, 1, 5)) == "0999-01"


@pytest.mark.parametrize(
    ("base", "rate", "line", "shown"),
    [
        ("12000", "0.05", "600.00", "12000.00 × 5% = 600.00"),  # noqa: RUF001
        ("-12000.00", "0.050", "-600.00", "-12000.00 × 5% = -600.00"),  # noqa: RUF001
        ("100.125", "0.035", "3.50", "100.125 × 3.5% = 3.50"),  # noqa: RUF001
        ("10", "0.1", "1.00", "10.00 × 10% = 1.00"),  # noqa: RUF001
    ],
)
def test_formula_shows_cents_percent_and_the_line(
    base: str, rate: str, line: str, shown: str
) -> None:
    assert formula(Decimal(base), Decimal(rate), Decimal(line)) == shown


@given(amounts, rates)
def test_a_credit_and_its_reversal_net_to_zero(amount: Decimal, rate: Decimal) -> None:
    assert earning(amount, rate) + earning(-amount, rate) == 0


@given(amounts, rates)
def test_rounding_is_half_up_to_the_cent(amount: Decimal, rate: Decimal) -> None:
    exact = amount * rate
    line = earning(amount, rate)
    assert line.as_tuple().exponent == -2
    assert abs(line - exact) <= Decimal("0.005")
    if abs(line - exact) == Decimal("0.005"):
        assert abs(line) > abs(exact)


# Plan ids are unique (the table's primary key), and the id is what breaks a tie.
@given(
    st.lists(plans(), max_size=8, unique_by=lambda plan: plan.id),
    days,
    st.randoms(use_true_random=False),
)
def test_plan_choice_is_deterministic(plan_list: list[Terms], day: date, random: Random) -> None:
    chosen = plan_in_force(plan_list, day)
    shuffled = list(plan_list)
    random.shuffle(shuffled)
    assert plan_in_force(shuffled, day) == chosen
    in_force_then = [plan for plan in plan_list if in_force(plan, day)]
    if not in_force_then:
        assert chosen is None
    else:
        assert chosen in in_force_then
        assert all(plan.effective_from <= chosen.effective_from for plan in in_force_then)
