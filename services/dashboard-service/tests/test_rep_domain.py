"""The rep page's own reckoning: the current statement, the person's team today,
their place on the board, the chart's series and the what-if amounts."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard_service.domain.rep import (
    InvalidWhatIf,
    current_statement,
    current_unit,
    progress_series,
    standing_of,
    what_if_deals,
)

pytestmark = pytest.mark.unit


def test_the_current_statement_is_the_latest_open_one() -> None:
    summaries = [
        {"period_key": "2026-01", "status": "closed"},
        {"period_key": "2026-02", "status": "open"},
        {"period_key": "2026-03", "status": "open"},
    ]
    assert current_statement(summaries) == summaries[2]
    assert current_statement(summaries[:1]) == summaries[0]
    assert current_statement([]) is None


def test_the_team_is_todays_membership() -> None:
    memberships = [
        {"org_unit_id": "east", "valid_from": "2025-01-01", "valid_to": "2026-03-01"},
        {"org_unit_id": "west", "valid_from": "2026-03-01", "valid_to": None},
    ]
    assert current_unit(memberships, date(2026, 2, 28)) == "east"
    assert current_unit(memberships, date(2026, 3, 1)) == "west"
    assert current_unit(memberships, date(2024, 1, 1)) is None


def test_the_standing_counts_only_the_ranked() -> None:
    rows = [
        {"person_id": "a", "rank": 1, "attainment": "1.2"},
        {"person_id": "b", "rank": 2, "attainment": "0.5"},
        {"person_id": "c", "rank": None, "attainment": None},
    ]
    standing = standing_of(rows, "b")
    assert standing is not None
    assert (standing.rank, standing.of, standing.attainment) == (2, 2, Decimal("0.5"))
    assert standing_of(rows, "nobody") is None


def test_the_series_keeps_the_points_in_order_as_decimal_strings() -> None:
    series = progress_series(
        [
            {"on": "2026-03-01", "actual": "0", "expected_to_date": "3225.81"},
            {"on": "2026-03-02", "actual": "1000.50", "expected_to_date": "6451.61"},
        ]
    )
    assert series.days == ["2026-03-01", "2026-03-02"]
    assert series.actual == ["0", "1000.50"]
    assert series.expected == ["3225.81", "6451.61"]


@given(st.lists(st.decimals(min_value="0.01", max_value="1e9", places=2), min_size=1, max_size=3))
def test_typed_amounts_come_back_as_the_same_decimals(amounts: list[Decimal]) -> None:
    typed = [f"{a:,}" for a in amounts]
    assert what_if_deals(["", *typed]) == amounts


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        (["abc"], "amount.0"),
        (["100", "-5"], "amount.1"),
        (["", "0"], "amount.1"),
        (["", ""], "amount.0"),
        (["NaN"], "amount.0"),
    ],
)
def test_a_bad_amount_names_its_row(typed: list[str], field: str) -> None:
    with pytest.raises(InvalidWhatIf) as refused:
        what_if_deals(typed)
    assert refused.value.field == field
