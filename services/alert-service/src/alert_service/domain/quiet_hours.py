"""A subscriber's quiet hours: a daily window of local wall-clock time, such as
22:00-07:00, in which notifications wait instead of waking anyone.

Wall-clock time does not move evenly: on a DST night it jumps forward (02:00
becomes 03:00, and a window ending at 02:30 ends at the jump) or back (02:30
happens twice). So the end of the window is not found by adding wall-clock
durations; instead time is cut into spans of one UTC offset, in each of which
wall-clock time is UTC plus a constant, and the window's end is found span by span.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

ONE_SECOND = timedelta(seconds=1)
ONE_DAY = timedelta(days=1)


def deliverable_at(now: datetime, start: time | None, end: time | None, timezone: str) -> datetime:
    """The first instant at or after `now` outside the quiet window [start, end)
    of local time in `timezone` (IANA name), in UTC: `now` itself when it is not
    quiet. No window when either bound is None or they are equal; a window whose
    start is after its end crosses midnight."""
    now = now.astimezone(UTC)
    if start is None or end is None or start == end:
        return now
    zone = ZoneInfo(timezone)
    instant = now
    while True:
        offset = _utc_offset(instant, zone)
        leaves = _window_left_at(instant, offset, start, end)
        change = _offset_change(instant, leaves, offset, zone)
        if change is None:
            return leaves
        # The offset changes before the window would end at this offset; wall-clock
        # time jumps there, maybe out of the window, so look again from there.
        instant = change


def is_quiet(wall: time, start: time, end: time) -> bool:
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


def _window_left_at(instant: datetime, offset: timedelta, start: time, end: time) -> datetime:
    """When the window is left if the UTC offset stays `offset` from `instant` on."""
    wall = (instant + offset).replace(tzinfo=None)
    if not is_quiet(wall.time(), start, end):
        return instant
    wall_end = datetime.combine(wall.date(), end)
    if wall_end <= wall:
        wall_end += ONE_DAY
    return (wall_end - offset).replace(tzinfo=UTC)


def _offset_change(
    after: datetime, until: datetime, offset: timedelta, zone: ZoneInfo
) -> datetime | None:
    """The first instant in (after, until] whose UTC offset is not `offset`, or
    None. The span is under 25 hours, in which no zone changes its offset twice;
    tz database transitions fall on whole seconds, so halving to a second is exact."""
    if _utc_offset(until, zone) == offset:
        return None
    low = after.replace(microsecond=0)
    high = until.replace(microsecond=0) + (ONE_SECOND if until.microsecond else timedelta())
    while high - low > ONE_SECOND:
        middle = low + (high - low) // 2
        middle = middle.replace(microsecond=0)
        if _utc_offset(middle, zone) == offset:
            low = middle
        else:
            high = middle
    return high


def _utc_offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset
