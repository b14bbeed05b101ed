"""The periods plans price (a month, a quarter or a year) and a statement's name."""

from datetime import date

from attain_contracts import Period
from attain_contracts.calendar import FiscalCalendar, Grain
from servicekit.errors import FieldError

PLAN_GRAINS: tuple[Grain, ...] = ("month", "quarter", "year")
Key = tuple[str, str]  # (person_id, period_key)


def plan_period(calendar: FiscalCalendar, period_key: str) -> tuple[Period, Grain] | None:
    """The period and its grain when plans price it; a key no calendar names raises ValueError."""
    period = calendar.period(period_key)
    grain = calendar.grain_of(period)
    return (period, grain) if grain in PLAN_GRAINS else None


def priced_period(
    calendar: FiscalCalendar, period_key: str, *, field: str, refusal: str
) -> tuple[Period, Grain]:
    """The period a request names, refused (naming `field`) unless plans price it."""
    try:
        found = plan_period(calendar, period_key)
    except ValueError as error:
        raise FieldError(field, str(error)) from error
    if found is None:
        raise FieldError(field, refusal)
    return found


def named_period(calendar: FiscalCalendar, period_key: str, *, field: str) -> Period:
    """Any period the calendar names, refused (naming `field`) otherwise."""
    try:
        return calendar.period(period_key)
    except ValueError as error:
        raise FieldError(field, str(error)) from error


def statement_periods(calendar: FiscalCalendar, day: date) -> list[Period]:
    """The month, quarter and year `day` falls in: the statements a credit on it may change."""
    return [calendar.containing(day, grain) for grain in PLAN_GRAINS]


def statement_id(person_id: str, period_key: str) -> str:
    return f"{person_id}:{period_key}"
