"""An injectable clock: every time-based computation asks it for `now`, so tests
can replay any date."""

from datetime import UTC, datetime
from typing import Protocol


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
