from datetime import date

import pytest

from goal_service.domain.periods import UnknownPeriodKey, period_from_key

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
    ],
)
def test_period_keys_name_their_dates(key: str, start: date, end: date) -> None:
    period = period_from_key(key)
    assert (period.key, period.start, period.end) == (key, start, end)


@pytest.mark.parametrize("key", ["2026-13", "2026-00", "2025-W53", "March", "2026-3"])
def test_unknown_period_keys_are_refused(key: str) -> None:
    with pytest.raises(UnknownPeriodKey):
        period_from_key(key)
