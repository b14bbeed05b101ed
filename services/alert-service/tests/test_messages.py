from datetime import date
from decimal import Decimal

from alert_service.domain.messages import alert_message, goal_label, period_label, shown


def test_periods_read_as_their_keys() -> None:
    assert period_label(date(2026, 2, 1), date(2026, 2, 28)) == "2026-02"
    assert period_label(date(2026, 2, 23), date(2026, 3, 1)) == "2026-W09"
    assert period_label(date(2026, 3, 30), date(2026, 3, 31)) == "2026-03-30 to 2026-03-31"


def test_the_message_says_which_goal_how_far_and_what_was_expected() -> None:
    label = goal_label("revenue", date(2026, 3, 1), date(2026, 3, 31), "Team A", "Alice Chen")
    message = alert_message(
        label,
        "66.7% behind pace",
        Decimal("5000"),
        Decimal("15000.0000"),
        Decimal("22000"),
        date(2026, 3, 20),
    )
    assert message == (
        "Revenue 2026-03 of Alice Chen (Team A): 66.7% behind pace. 5,000 so far, "
        "15,000 expected by 2026-03-20, target 22,000."
    )


def test_figures_are_grouped_with_at_most_two_decimals() -> None:
    assert [shown(Decimal(v)) for v in ("1E+5", "1234.5", "0.125", "7")] == [
        "100,000",
        "1,234.5",
        "0.13",
        "7",
    ]
