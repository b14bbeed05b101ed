"""Numbers as people read them: money with its currency's symbol and minor units,
percentages with one decimal, dates in the organisation's time zone."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard_service.api.templating import format_day, format_instant, money, percent

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "shown"),
    [
        ("1234.5", "CNY", "zh", "¥1,234.50"),
        ("1234.5", "USD", "en", "$1,234.50"),
        ("1234.5", "JPY", "en", "¥1,234"),
        ("-20", "EUR", "en", "-€20.00"),
    ],
)
def test_money_has_its_symbol_and_minor_units(
    amount: str, currency: str, locale: str, shown: str
) -> None:
    assert money(amount, currency, locale=locale) == shown


def test_a_missing_figure_is_a_dash_not_zero() -> None:
    assert money(None, "CNY", locale="en") == "—"
    assert percent(None, locale="en") == "—"


@given(st.decimals(min_value=-10, max_value=10, places=6, allow_nan=False))
def test_a_percentage_always_has_exactly_one_decimal(ratio: Decimal) -> None:
    shown = percent(ratio, locale="en")
    assert shown.endswith("%")
    digits = shown.rstrip("%").replace(",", "")
    assert len(digits.split(".")[1]) == 1
    assert abs(Decimal(digits) - ratio * 100) <= Decimal("0.05")


def test_dates_are_in_the_organisations_time_zone() -> None:
    # 20:00 UTC on 31 March is already 1 April in Shanghai.
    late = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    assert format_day(late, locale="en", zone=SHANGHAI) == "Apr 1, 2026"
    assert format_instant(late, locale="en", zone=SHANGHAI) == "Apr 1, 2026 4:00\u202fAM"
    assert format_day(date(2026, 3, 31), locale="zh", zone=SHANGHAI) == "2026年3月31日"
