"""Quiet hours end at the first instant outside the window, in local wall-clock
time, also on the nights the clocks change."""

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from alert_service.domain.quiet_hours import deliverable_at

pytestmark = pytest.mark.unit

# Zones with 1-hour DST shifts both sides of the equator, a 30-minute one
# (Lord Howe), a 45-minute offset with DST (Chatham), and none.
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Shanghai",
    "Asia/Kolkata",
]
# The largest DST shift among ZONES.
LARGEST_SHIFT = timedelta(hours=1)
ONE_MICROSECOND = timedelta(microseconds=1)


def clock_changes(zone: str, year: int) -> list[datetime]:
    """The hours of `year` (UTC) in which `zone` changes its UTC offset."""
    tz = ZoneInfo(zone)
    hours = [datetime(year, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(366 * 24)]
    return [
        hour
        for hour, before in zip(hours[1:], hours, strict=False)
        if hour.astimezone(tz).utcoffset() != before.astimezone(tz).utcoffset()
    ]


CLOCK_CHANGES = {zone: clock_changes(zone, 2026) for zone in ZONES}


@st.composite
def zones_and_instants(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and an instant: half the time, to the minute within a day of one
    of the zone's clock changes, where the mistakes would be."""
    zone = draw(st.sampled_from(ZONES))
    changes = CLOCK_CHANGES[zone]
    if draw(st.booleans()) and changes:
        near = draw(st.sampled_from(changes))
        return zone, near + timedelta(minutes=draw(st.integers(-26 * 60, 26 * 60)))
    # hypothesis takes naive bounds and attaches the zone itself.
    start, end = datetime(2020, 1, 1), datetime(2035, 12, 31)  # noqa: DTZ001
    return zone, draw(st.datetimes(min_value=start, max_value=end, timezones=st.just(UTC)))


# Whole minutes, as people set quiet hours, and as clocks change.
minutes = st.builds(time, st.integers(0, 23), st.integers(0, 59))


def quiet(wall: time, start: time, end: time) -> bool:
    if start < end:
        return start <= wall < end
    return not end <= wall < start


def wall_time(instant: datetime, zone: str) -> time:
    return instant.astimezone(ZoneInfo(zone)).time()


def outside_length(start: time, end: time) -> timedelta:
    """How much of a normal day is outside the window [start, end)."""
    return (_since_midnight(start) - _since_midnight(end)) % timedelta(days=1)


def _since_midnight(wall: time) -> timedelta:
    return timedelta(hours=wall.hour, minutes=wall.minute)


@given(zones_and_instants(), minutes, minutes)
def test_result_is_the_first_instant_outside_the_window(
    zone_and_now: tuple[str, datetime], start: time, end: time
) -> None:
    zone, now = zone_and_now
    assume(start != end)
    result = deliverable_at(now, start, end, zone)

    assert result.tzinfo == UTC
    assert result >= now
    assert not quiet(wall_time(result, zone), start, end)
    if result > now:
        # Nothing earlier would do: the moment before, it was still quiet.
        assert quiet(wall_time(result - ONE_MICROSECOND, zone), start, end)


@given(zones_and_instants(), minutes, minutes)
def test_result_is_now_when_now_is_not_quiet(
    zone_and_now: tuple[str, datetime], start: time, end: time
) -> None:
    zone, now = zone_and_now
    assume(not quiet(wall_time(now, zone), start, end))

    assert deliverable_at(now, start, end, zone) == now


@given(zones_and_instants(), minutes, minutes)
def test_a_window_ends_within_a_day_and_a_clock_change(
    zone_and_now: tuple[str, datetime], start: time, end: time
) -> None:
    zone, now = zone_and_now
    # A window that leaves less than a DST shift outside can lose its whole
    # outside part to a spring-forward gap and end only the next day.
    assume(start != end and outside_length(start, end) > LARGEST_SHIFT)

    assert deliverable_at(now, start, end, zone) - now < timedelta(hours=25)


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Berlin"))


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


NIGHT = (time(22), time(7))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (berlin(2026, 1, 15, 23, 30), utc(2026, 1, 16, 6)),  # before midnight
        (berlin(2026, 1, 16, 3, 0), utc(2026, 1, 16, 6)),  # after midnight
        (berlin(2026, 1, 15, 22, 0), utc(2026, 1, 16, 6)),  # the window includes its start
        (berlin(2026, 1, 16, 7, 0), utc(2026, 1, 16, 6)),  # and excludes its end
        (berlin(2026, 1, 15, 21, 59), utc(2026, 1, 15, 20, 59)),  # not quiet yet
    ],
)
def test_window_crossing_midnight(now: datetime, expected: datetime) -> None:
    assert deliverable_at(now, *NIGHT, "Europe/Berlin") == expected


def test_spring_forward_night_in_berlin_is_an_hour_shorter() -> None:
    # 2026-03-29 02:00 CET became 03:00 CEST: 22:00 to 07:00 lasts 8 hours.
    assert deliverable_at(berlin(2026, 3, 28, 23), *NIGHT, "Europe/Berlin") == utc(2026, 3, 29, 5)


def test_fall_back_night_in_berlin_is_an_hour_longer() -> None:
    # 2026-10-25 03:00 CEST became 02:00 CET: 22:00 to 07:00 lasts 10 hours.
    assert deliverable_at(berlin(2026, 10, 24, 22, 30), *NIGHT, "Europe/Berlin") == utc(
        2026, 10, 25, 6
    )


def test_spring_forward_night_in_new_york() -> None:
    # 2026-03-08 02:00 EST became 03:00 EDT; 07:00 EDT is 11:00 UTC.
    now = datetime(2026, 3, 7, 23, tzinfo=ZoneInfo("America/New_York"))

    assert deliverable_at(now, *NIGHT, "America/New_York") == utc(2026, 3, 8, 11)


def test_window_ending_inside_the_skipped_hour_ends_at_the_jump() -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin: at 01:00 UTC the clock reads
    # 03:00, already past the end.
    now = berlin(2026, 3, 28, 23)

    assert deliverable_at(now, time(22), time(2, 30), "Europe/Berlin") == utc(2026, 3, 29, 1)


def test_window_ending_inside_the_repeated_hour_ends_at_each_pass() -> None:
    # 02:00-03:00 happens twice on 2026-10-25 in Berlin: first in CEST, then in CET.
    first_pass = utc(2026, 10, 25, 0, 10)  # 02:10 CEST
    second_pass = utc(2026, 10, 25, 1, 10)  # 02:10 CET

    assert deliverable_at(first_pass, time(1), time(2, 30), "Europe/Berlin") == utc(
        2026, 10, 25, 0, 30
    )
    assert deliverable_at(second_pass, time(1), time(2, 30), "Europe/Berlin") == utc(
        2026, 10, 25, 1, 30
    )


def test_clock_falling_back_before_the_start_ends_the_window() -> None:
    # 02:15-05:00: at 02:30 CEST it is quiet; at 03:00 CEST the clock falls back
    # to 02:00 CET, before the window's start.
    now = utc(2026, 10, 25, 0, 30)

    assert deliverable_at(now, time(2, 15), time(5), "Europe/Berlin") == utc(2026, 10, 25, 1)


@pytest.mark.parametrize(
    ("start", "end"), [(None, None), (time(22), None), (None, time(7)), (time(9), time(9))]
)
def test_no_window(start: time | None, end: time | None) -> None:
    now = berlin(2026, 1, 15, 23, 30)

    result = deliverable_at(now, start, end, "Europe/Berlin")

    assert result == now
    assert result.tzinfo == UTC


def test_now_in_any_offset_gives_the_same_instant() -> None:
    in_shanghai = datetime(2026, 1, 16, 6, 30, tzinfo=timezone(timedelta(hours=8)))

    assert deliverable_at(in_shanghai, *NIGHT, "Europe/Berlin") == utc(2026, 1, 16, 6)
