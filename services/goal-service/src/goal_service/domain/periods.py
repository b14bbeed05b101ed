"""Period keys of the calendar (DOMAIN.md §1) and the dates they stand for."""

import re
from calendar import monthrange
from datetime import date, timedelta

from attain_contracts import Period

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class UnknownPeriodKey(ValueError):
    pass


def period_from_key(key: str) -> Period:
    """`2026-03` is a calendar month, `2026-W09` an ISO week."""
    if match := MONTH.match(key):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise UnknownPeriodKey(f"{key}: month must be 01 to 12")
        return Period(
            key=key, start=date(year, month, 1), end=date(year, month, monthrange(year, month)[1])
        )
    if match := ISO_WEEK.match(key):
        try:
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError as error:
            raise UnknownPeriodKey(f"{key}: {error}") from error
        return Period(key=key, start=monday, end=monday + timedelta(days=6))
    raise UnknownPeriodKey(f"{key}: expected a month (2026-03) or an ISO week (2026-W09)")


def within(inner: Period, outer: Period) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end
