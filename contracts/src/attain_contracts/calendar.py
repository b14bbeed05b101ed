"""The organisation's calendar (DOMAIN.md §1): what a period key stands for, the
periods of a grain inside a span, and which days are working days."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from attain_contracts import Period
from attain_contracts.progress import Calendar

Grain = Literal["year", "half", "quarter", "month", "week"]

# Coarse to fine. No span is ever two of them at once (12, 6, 3 and 1 months
# or 7 days), so trying them in this order finds the one a span is, if any.
GRAINS: tuple[Grain, ...] = ("year", "half", "quarter", "month", "week")
FISCAL_MONTHS: dict[Grain, int] = {"year": 12, "half": 6, "quarter": 3}

FISCAL_KEY = re.compile(r"^FY(\d{4})(?:-(H[12]|Q[1-4]))?$")
MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")
WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")
EXPECTED_KEYS = "expected FY2026, FY2026-H1, FY2026-Q1, 2026-03 or 2026-W09"


class UnknownPeriodKey(ValueError):
    pass


@dataclass(frozen=True)
class FiscalCalendar:
    """An organisation's calendar. Fiscal years are named by the calendar year
    in which they start: with `fiscal_year_start_month=4`, FY2026 runs from
    2026-04-01 to 2027-03-31 and FY2026-Q1 is April to June. Months are
    calendar months and weeks ISO weeks (Monday to Sunday) whatever the fiscal
    year. Dates are already local to `timezone`; the zone is kept so that
    whoever turns an instant into a date uses the organisation's. Working days
    are Monday to Friday minus `holidays`, plus `working_weekends`: the weekend
    days worked in exchange for a holiday (China's 调休)."""

    timezone: str = "UTC"
    fiscal_year_start_month: int = 1
    holidays: frozenset[date] = frozenset()
    working_weekends: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise ValueError("fiscal_year_start_month must be 1 to 12")

    def period(self, key: str) -> Period:
        try:
            grain, day = self._parse(key)
            return self.containing(day, grain)
        except UnknownPeriodKey:
            raise
        except (ValueError, OverflowError) as error:  # year 0, week 53 of a 52-week year
            raise UnknownPeriodKey(f"{key}: {error}") from error

    def key_of(self, start: date, end: date) -> str | None:
        """The key of the one calendar period that is exactly `start`..`end`."""
        exact = self._exact(start, end)
        return exact[1].key if exact else None

    def grain_of(self, period: Period) -> Grain | None:
        """Read from the dates, not the key, so a period given by dates that
        happens to be a whole month is a month."""
        exact = self._exact(period.start, period.end)
        return exact[0] if exact else None

    def periods(self, within: Period, grain: Grain) -> list[Period]:
        """The `grain` periods overlapping `within`, in order, each clipped to
        it. A clipped piece is no calendar period any more, so it loses its key:
        a month split into weeks ends with e.g. 2026-03-30..31, key None."""
        pieces = []
        day = within.start
        while day <= within.end:
            whole = self.containing(day, grain)
            start, end = max(whole.start, within.start), min(whole.end, within.end)
            clipped = (start, end) != (whole.start, whole.end)
            pieces.append(Period(key=None if clipped else whole.key, start=start, end=end))
            day = whole.end + timedelta(days=1)
        return pieces

    @property
    def working_week(self) -> Calendar:
        """The working days alone, as progress (expected to date, pace, silence) counts them."""
        return Calendar(self.holidays, self.working_weekends)

    def is_working_day(self, day: date) -> bool:
        return self.working_week.is_working_day(day)

    def working_days(self, period: Period) -> int:
        return self.working_week.working_days(period.start, period.end)

    def _exact(self, start: date, end: date) -> tuple[Grain, Period] | None:
        for grain in GRAINS:
            whole = self.containing(start, grain)
            if (whole.start, whole.end) == (start, end):
                return grain, whole
        return None

    def _parse(self, key: str) -> tuple[Grain, date]:
        """The grain `key` names and a day inside that period."""
        if match := FISCAL_KEY.match(key):
            year, part = int(match[1]), match[2]
            first = date(year, self.fiscal_year_start_month, 1)
            if part is None:
                return "year", first
            grain: Grain = "half" if part[0] == "H" else "quarter"
            return grain, _add_months(first, FISCAL_MONTHS[grain] * (int(part[1]) - 1))
        if match := MONTH_KEY.match(key):
            if not 1 <= int(match[2]) <= 12:
                raise UnknownPeriodKey(f"{key}: month must be 01 to 12")
            return "month", date(int(match[1]), int(match[2]), 1)
        if match := WEEK_KEY.match(key):
            return "week", date.fromisocalendar(int(match[1]), int(match[2]), 1)
        raise UnknownPeriodKey(f"{key}: {EXPECTED_KEYS}")

    def containing(self, day: date, grain: Grain) -> Period:
        """The whole `grain` period that `day` falls in, with its key."""
        if grain == "week":
            monday = day - timedelta(days=day.weekday())
            iso = monday.isocalendar()
            return Period(
                key=f"{iso.year:04d}-W{iso.week:02d}", start=monday, end=monday + timedelta(6)
            )
        if grain == "month":
            first = day.replace(day=1)
            return Period(key=f"{day:%Y-%m}", start=first, end=_add_months(first, 1) - timedelta(1))
        if grain not in FISCAL_MONTHS:
            raise ValueError(f"unknown grain {grain!r}; expected one of {', '.join(GRAINS)}")
        length = FISCAL_MONTHS[grain]
        start_month = self.fiscal_year_start_month
        fiscal_year = day.year if day.month >= start_month else day.year - 1
        index = ((day.year - fiscal_year) * 12 + day.month - start_month) // length
        start = _add_months(date(fiscal_year, start_month, 1), index * length)
        suffix = {"year": "", "half": f"-H{index + 1}", "quarter": f"-Q{index + 1}"}[grain]
        return Period(
            key=f"FY{fiscal_year:04d}{suffix}",
            start=start,
            end=_add_months(start, length) - timedelta(1),
        )


def days_of(period: Period) -> Iterator[date]:
    day = period.start
    while day <= period.end:
        yield day
        day += timedelta(1)


def days_in_month(day: date) -> int:
    first = day.replace(day=1)
    return (_add_months(first, 1) - first).days


def within(inner: Period, outer: Period) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def year_before(period: Period) -> Period:
    """The same dates a year earlier (29 February becomes the 28th)."""
    return Period(start=_year_back(period.start), end=_year_back(period.end))


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def period_from_key(key: str) -> Period:
    """`key` in a calendar whose fiscal year starts in January: for callers that
    do not have the organisation's calendar at hand."""
    return FiscalCalendar().period(key)


def _add_months(first_of_month: date, months: int) -> date:
    years, month_index = divmod(first_of_month.month - 1 + months, 12)
    return date(first_of_month.year + years, month_index + 1, 1)
