"""How a figure is written, the same in every API response and event: money in
its currency's minor units, counts as whole numbers, ratios at four places."""

import json
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain_contracts import (
    EarningsUpdated,
    GoalProgressUpdated,
    GoalUpserted,
    Money,
    Period,
)
from attain_contracts.events import ActualRecorded, DeviationDetected
from attain_contracts.types import (
    RATIO_PLACES,
    minor_units,
    write_count,
    write_metric,
    write_money,
    write_ratio,
)

pytestmark = pytest.mark.unit

# Within what a NUMERIC(18, 4) column holds, and a little beyond.
figures = st.decimals(
    min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False, allow_infinity=False
)
currencies = st.sampled_from(["CNY", "USD", "EUR", "JPY", "KRW", "KWD", "XYZ"]) | st.none()


def places(written: str) -> int:
    assert re.fullmatch(r"-?\d+(\.\d+)?", written), written
    return len(written.partition(".")[2])


@given(figures, currencies)
def test_money_is_written_in_its_currency_minor_units_rounded_half_up(value, currency):
    written = write_money(value, currency)

    exponent = minor_units(currency)
    assert places(written) == exponent
    unit = Decimal(1).scaleb(-exponent)
    assert Decimal(written) == value.quantize(unit, rounding=ROUND_HALF_UP)
    assert abs(Decimal(written) - value) <= unit / 2


@given(figures)
def test_a_ratio_has_four_places_and_a_count_none(value):
    assert places(write_ratio(value)) == RATIO_PLACES
    assert abs(Decimal(write_ratio(value)) - value) <= Decimal("0.00005")
    assert places(write_count(value)) == 0
    assert abs(Decimal(write_count(value)) - value) <= Decimal("0.5")


@given(figures, currencies)
def test_writing_what_was_written_changes_nothing(value, currency):
    for write in (lambda v: write_money(v, currency), write_ratio, write_count):
        assert write(Decimal(write(value))) == write(value)


@given(st.decimals(allow_nan=False, allow_infinity=False), currencies)
def test_any_decimal_is_written_in_fixed_point(value, currency):
    for written in (write_money(value, currency), write_ratio(value), write_count(value)):
        assert re.fullmatch(r"-?\d+(\.\d+)?", written)
    assert places(write_ratio(value)) == RATIO_PLACES


@given(st.decimals(min_value=Decimal("-0.00004"), max_value=Decimal(0), places=6))
def test_no_negative_zero(value):
    assert write_ratio(value) == "0.0000"
    assert write_money(value) == "0.00"
    assert write_count(value) == "0"


def test_the_minor_units_of_some_currencies():
    assert write_money(Decimal("12000"), "CNY") == "12000.00"
    assert write_money(Decimal("12000.4"), "JPY") == "12000"
    assert write_money(Decimal("1.0E+5"), "KRW") == "100000"
    assert write_money(Decimal("1.2345"), "KWD") == "1.235"
    assert write_money(Decimal("0.005")) == "0.01"
    assert write_ratio(Decimal("0.5")) == "0.5000"
    assert write_ratio(Decimal("0.00005")) == "0.0001"
    assert write_count(Decimal("2.5")) == "3"


def test_a_goal_metric_is_written_as_it_reads():
    assert write_metric(Decimal("100000.0000"), "revenue") == "100000.00"
    assert write_metric(Decimal("100000.0000"), "revenue", "JPY") == "100000"
    assert write_metric(Decimal("12.0000"), "deals_won") == "12"
    assert write_metric(Decimal("0.333333"), "win_rate") == "0.3333"
    assert write_metric(Decimal("41.5"), "sales_cycle_days") == "41.50"
    assert write_metric(None, "revenue") is None


NOW = datetime(2026, 3, 31, tzinfo=UTC)
PERIOD = Period(key="2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31))


def progress(metric: str) -> GoalProgressUpdated:
    # As the service reads them back from NUMERIC(18, 4) columns.
    return GoalProgressUpdated(
        goal_id="g-1",
        owner_id="p-1",
        metric=metric,
        direction="higher_is_better",
        period=PERIOD,
        as_of=NOW,
        actual=Decimal("50000.0000"),
        target=Decimal("100000.0000"),
        attainment=Decimal("0.500000"),
        expected_to_date=Decimal("33333.3333"),
        pace=Decimal("1.5"),
        projection=Decimal("0"),
        sequence=3,
        numerator=Decimal("7.0000"),
        denominator=Decimal("10.0000"),
    )


def test_progress_event_writes_money_counts_and_ratios_one_way():
    written = progress("revenue").model_dump(mode="json")

    assert written["actual"] == "50000.00"
    assert written["target"] == "100000.00"
    assert written["expected_to_date"] == "33333.33"
    assert written["projection"] == "0.00"
    assert written["attainment"] == "0.5000"
    assert written["pace"] == "1.5000"
    assert written["pipeline_projection"] is None
    assert written["sequence"] == 3


def test_a_ratio_goal_writes_what_it_divides_as_counts():
    written = progress("win_rate").model_dump(mode="json")

    assert written["target"] == "100000.0000"
    assert written["numerator"] == "7"
    assert written["denominator"] == "10"
    counted = progress("deals_won").model_dump(mode="json")
    assert counted["actual"] == "50000"
    assert counted["numerator"] == "7"


def test_events_still_read_what_they_were_written_with_before():
    before = json.loads(progress("revenue").model_dump_json())
    before.update(target="100000.0000", attainment="0.500000", projection="0")

    read = GoalProgressUpdated.model_validate(before)

    assert read.target == Decimal("100000")
    assert read.attainment == Decimal("0.5")


def test_goal_target_deal_and_money_carry_their_currency():
    goal = GoalUpserted(
        goal_id="g-1",
        parent_id=None,
        metric="revenue",
        direction="higher_is_better",
        org_unit_id="ou-1",
        owner_id="p-1",
        period=PERIOD,
        timezone="Asia/Tokyo",
        target=Decimal("1.0E+7"),
        currency="JPY",
        status="active",
        method="manual",
        version=1,
        updated_at=NOW,
    )
    assert goal.model_dump(mode="json")["target"] == "10000000"
    assert goal.model_copy(update={"currency": None}).model_dump(mode="json")["target"] == (
        "10000000.00"
    )
    actual = ActualRecorded(
        entry_id="e-1",
        deal_id="d-1",
        source="crm",
        metric="deals_won",
        person_id="p-1",
        org_path=["ou-1"],
        credited_on=date(2026, 3, 1),
        amount=Decimal("-1.0000"),
        reason="reversed",
        deal_version=2,
        recorded_at=NOW,
    )
    assert actual.model_dump(mode="json")["amount"] == "-1"
    earnings = EarningsUpdated(
        statement_id="st-1",
        person_id="p-1",
        period_key="2026-Q1",
        total=Money(amount=Decimal("1234.5"), currency="USD"),
        version=1,
        updated_at=NOW,
    )
    assert earnings.model_dump(mode="json")["total"] == {"amount": "1234.50", "currency": "USD"}


def test_deviation_writes_its_figures_as_money_of_no_known_currency_and_pace_as_a_ratio():
    deviation = DeviationDetected(
        alert_id="a-1",
        goal_id="g-1",
        owner_id="p-1",
        rule="behind_pace",
        severity="warning",
        as_of=NOW,
        actual=Decimal("1.0E+4"),
        expected_to_date=Decimal("20000.0000"),
        target=Decimal("100000.0000"),
        pace=Decimal("0.500000"),
        message="behind",
    )
    written = deviation.model_dump(mode="json")
    assert (written["actual"], written["expected_to_date"], written["target"]) == (
        "10000.00",
        "20000.00",
        "100000.00",
    )
    assert written["pace"] == "0.5000"
