"""How the figures of `GoalProgressUpdated` are defined (DOMAIN.md §2 and §4):
which ledger metrics a goal metric reads, working days, expected to date
(milestones, else the child periods' targets, else linear in working days),
the run-rate projection and direction-aware ratios.

tracking-service publishes these figures and alert-service re-evaluates them at
later instants, so both compute them here, from one definition."""

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

PLACES = Decimal("0.0001")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Formula:
    """How a goal metric reads the ledger: the sum of `numerator` metrics, over the
    sum of `denominator` metrics for a ratio or an average. A ratio is never summed."""

    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()

    @property
    def is_ratio(self) -> bool:
        return bool(self.denominator)


FORMULAS: dict[str, Formula] = {
    "revenue": Formula(("revenue",)),
    "deals_won": Formula(("deals_won",)),
    "new_customers": Formula(("new_customers",)),
    "collections": Formula(("collections",)),
    "leads_created": Formula(("leads_created",)),
    "opportunities_created": Formula(("opportunities_created",)),
    "activities": Formula(("activities",)),
    "win_rate": Formula(("deals_won",), ("deals_won", "deals_lost")),
    "lead_conversion": Formula(("opportunities_created",), ("leads_created",)),
    "avg_deal_size": Formula(("revenue",), ("deals_won",)),
    "sales_cycle_days": Formula(("sales_cycle_days",), ("deals_won",)),
}


def formula(metric: str) -> Formula:
    """A metric outside the catalog counts the ledger rows of the same name."""
    return FORMULAS.get(metric, Formula((metric,)))


def _monday_to_friday(day: date) -> bool:
    return day.weekday() < 5


@dataclass(frozen=True)
class Calendar:
    """Which days are working days: Monday to Friday, minus the holidays, plus the
    weekend days worked in exchange for a holiday (China's 调休, e.g. a Saturday
    before the Spring Festival). The one definition every working-day computation
    uses; `FiscalCalendar.working_week` gives the organisation's."""

    holidays: frozenset[date] = frozenset()
    working_weekends: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        """A holiday is never worked, even when it is also named a working weekend day."""
        if day in self.holidays:
            return False
        return _monday_to_friday(day) or day in self.working_weekends

    def working_days(self, start: date, end: date) -> int:
        """Working days from `start` to `end`, both included (0 when end < start):
        whole weeks of five, then the days the exceptions move either way."""
        if end < start:
            return 0
        weeks, rest = divmod((end - start).days + 1, 7)
        count = weeks * 5 + sum(
            1 for offset in range(rest) if _monday_to_friday(start + timedelta(offset))
        )
        days, moved = self._exceptions
        return count + moved[bisect_right(days, end)] - moved[bisect_left(days, start)]

    @cached_property
    def _exceptions(self) -> tuple[list[date], list[int]]:
        """The exception days in order, and before each how many working days they move
        (+1 a worked weekend day, -1 a weekday holiday): progress computes working days
        for every goal it publishes, so this is summed once per calendar."""
        days = sorted(self.holidays | self.working_weekends)
        moved = [0]
        for day in days:
            moved.append(moved[-1] + int(self.is_working_day(day)) - int(_monday_to_friday(day)))
        return days, moved

    def elapsed(self, start: date, end: date, day: date) -> tuple[int, int]:
        """(done, total) of [start, end] by the end of `day`, in working days; in
        calendar days for a period without any working day."""
        total = self.working_days(start, end)
        if total == 0:
            total_days = (end - start).days + 1
            return max(0, min(total_days, (day - start).days + 1)), total_days
        return self.working_days(start, min(day, end)), total

    def pro_rata(self, amount: Decimal, start: date, end: date, day: date) -> Decimal:
        """The share of `amount` due by the end of `day`, when it is due evenly over the period."""
        done, total = self.elapsed(start, end, day)
        return amount * done / total


MONDAY_TO_FRIDAY = Calendar()


@dataclass(frozen=True)
class Milestone:
    on: date
    cumulative_target: Decimal


@dataclass(frozen=True)
class ChildTarget:
    start: date
    end: date
    target: Decimal


@dataclass(frozen=True)
class GoalTerms:
    metric: str
    direction: str
    start: date
    end: date
    target: Decimal
    milestones: tuple[Milestone, ...] = ()
    children: tuple[ChildTarget, ...] = ()

    @property
    def lower_is_better(self) -> bool:
        return self.direction == "lower_is_better"


def expected_to_date(terms: GoalTerms, day: date, calendar: Calendar = MONDAY_TO_FRIDAY) -> Decimal:
    if day < terms.start:
        return ZERO
    if terms.milestones:
        return _along_milestones(terms, day, calendar)
    if terms.children:
        return sum(
            (
                calendar.pro_rata(child.target, child.start, child.end, day)
                for child in terms.children
                if child.start <= day
            ),
            ZERO,
        )
    return calendar.pro_rata(terms.target, terms.start, terms.end, day)


def _along_milestones(terms: GoalTerms, day: date, calendar: Calendar) -> Decimal:
    """Linear in working days between the cumulative milestones (0 before the period
    starts, the target at its end)."""
    points = _milestone_points(terms)
    previous_day, previous_value = terms.start - timedelta(days=1), ZERO
    for on, value in points:
        if day <= on:
            start = previous_day + timedelta(days=1)
            return previous_value + calendar.pro_rata(value - previous_value, start, on, day)
        previous_day, previous_value = on, value
    return terms.target


def _milestone_points(terms: GoalTerms) -> list[tuple[date, Decimal]]:
    points = sorted(
        (m.on, m.cumulative_target) for m in terms.milestones if terms.start <= m.on <= terms.end
    )
    if not points or points[-1][0] < terms.end:
        points.append((terms.end, terms.target))
    return points


def run_rate_projection(
    terms: GoalTerms, actual: Decimal, day: date, calendar: Calendar
) -> Decimal:
    """Actual + run rate x working days left (DOMAIN.md §4)."""
    if day >= terms.end:
        return actual
    done = calendar.working_days(terms.start, day)
    if done == 0:
        return actual
    left = calendar.working_days(max(terms.start, day + timedelta(days=1)), terms.end)
    return actual + actual / done * left


def better(actual: Decimal, reference: Decimal, lower_is_better: bool) -> Decimal | None:
    """How `actual` compares with `reference`, above 1 being better in both directions."""
    if lower_is_better:
        return None if actual == 0 else (reference / actual).quantize(PLACES)
    return None if reference == 0 else (actual / reference).quantize(PLACES)
