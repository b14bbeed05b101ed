"""An injectable clock: every time-based computation asks it for `now`, so tests
can replay any date."""

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock needs a timezone-aware instant")
        self.at = at

    def now(self) -> datetime:
        return self.at


def local_day(instant: datetime, timezone: str | ZoneInfo) -> date:
    """The calendar day `instant` falls on in `timezone` (an IANA name or a zone):
    the one rule every service uses to put an instant on a goal's or a plan's day."""
    if instant.tzinfo is None:
        raise ValueError("the day of an instant needs a timezone-aware instant")
    zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    return instant.astimezone(zone).date()
