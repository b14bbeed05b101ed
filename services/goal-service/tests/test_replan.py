from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain_contracts import Period
from attain_contracts.calendar import FiscalCalendar
from goal_service.domain.replan import ChildPlan, replan

pytestmark = pytest.mark.unit

CALENDAR = FiscalCalendar()
QUARTERS = [CALENDAR.period(f"FY2026-Q{q}") for q in range(1, 5)]


def _plan(*rows: tuple[int, int]) -> list[ChildPlan]:
    return [
        ChildPlan(period, Decimal(target), Decimal(actual))
        for period, (target, actual) in zip(QUARTERS, rows, strict=False)
    ]


def test_what_is_left_is_spread_by_the_seasonality_of_the_open_periods() -> None:
    # Q1 fell 200 short; Q2 (the current one) to Q4 share 1100 - 100 by 300:300:200.
    children = _plan((300, 100), (300, 50), (300, 0), (200, 0))
    result = replan(Decimal(1100), children, as_of=date(2026, 5, 15))
    assert result.targets == [300, 375, 375, 250]
    assert (result.remaining, result.open_count, result.behind_by) == (1000, 3, 200)
    assert not result.achieved


def test_open_periods_without_targets_share_by_calendar_days() -> None:
    children = _plan((500, 500), (0, 0), (0, 0), (0, 0))
    result = replan(Decimal(776), children, as_of=date(2026, 4, 1))
    # 276 over 91, 92 and 92 days: 91.3, 92.3, 92.3; the unit left goes to the earlier tie.
    assert result.targets == [500, 91, 93, 92]


def test_a_goal_already_made_proposes_nothing_more() -> None:
    children = _plan((300, 1100), (300, 0), (300, 0), (100, 0))
    result = replan(Decimal(1000), children, as_of=date(2026, 4, 1))
    assert result.targets == [300, 0, 0, 0]
    assert result.achieved
    assert (result.remaining, result.behind_by) == (-100, -800)


def test_nothing_to_replan_once_every_period_is_over() -> None:
    with pytest.raises(ValueError, match="no period left to re-plan"):
        replan(Decimal(1000), _plan((500, 0), (500, 0)), as_of=date(2026, 7, 1))


def test_actuals_in_cents_leave_a_plan_that_still_makes_the_target() -> None:
    children = _plan((500, 0), (500, 0))
    children[0] = ChildPlan(QUARTERS[0], Decimal(500), Decimal("100.40"))
    result = replan(Decimal(1000), children, as_of=date(2026, 4, 1))
    assert result.targets == [500, 900]
    assert result.remaining == Decimal("899.60")


@st.composite
def plans(draw: st.DrawFn) -> tuple[Decimal, list[ChildPlan], date]:
    start = draw(st.dates(date(2020, 1, 1), date(2030, 1, 1)))
    children = []
    for _ in range(draw(st.integers(1, 12))):
        end = start + timedelta(days=draw(st.integers(0, 40)))
        target, actual = draw(st.integers(0, 10**7)), draw(st.integers(0, 10**7))
        children.append(ChildPlan(Period(start=start, end=end), Decimal(target), Decimal(actual)))
        start = end + timedelta(days=1)
    as_of = draw(st.dates(children[0].period.start, children[-1].period.end))
    return Decimal(draw(st.integers(0, 10**8))), children, as_of


@given(plans())
def test_closed_actuals_and_open_targets_make_the_target(
    case: tuple[Decimal, list[ChildPlan], date],
) -> None:
    target, children, as_of = case
    result = replan(target, children, as_of)
    closed = [c.period.end < as_of for c in children]
    assert len(result.targets) == len(children)
    assert all(t >= 0 for t in result.targets)
    assert result.open_count == closed.count(False)
    for child, new, done in zip(children, result.targets, closed, strict=True):
        if done:
            assert new == child.target
    open_sum = sum(t for t, done in zip(result.targets, closed, strict=True) if not done)
    achieved = sum(c.actual for c, done in zip(children, closed, strict=True) if done)
    assert result.achieved == (result.remaining <= 0)
    assert open_sum == (0 if result.achieved else target - achieved)
    assert replan(target, children, as_of) == result
