"""The live fan-out: a page hears only about the keys its token names, a burst
about one key reaches a slow page as one signal, and page tokens work only for
the session that rendered the page."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from attain_contracts import EarningsUpdated, GoalProgressUpdated, Money, Period
from dashboard_service.domain.live import changed_keys, event_name
from dashboard_service.service_layer.live import (
    InvalidPageToken,
    LiveHub,
    mint_page_token,
    page_grant,
)

pytestmark = pytest.mark.unit

SECRET = "unit-test-secret-of-at-least-32-bytes"


async def next_change(stream, timeout: float = 1.0) -> set[str]:  # type: ignore[no-untyped-def]
    return await asyncio.wait_for(anext(stream), timeout)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_page_hears_only_its_own_keys_and_a_burst_as_one_signal() -> None:
    hub = LiveHub()
    mine = hub.changes(hub.subscribe(frozenset({"goal:g-1", "person:p-1"}), hub.now()), 60)
    theirs = hub.changes(hub.subscribe(frozenset({"goal:g-2"}), hub.now()), 60)
    for _ in range(100):
        hub.publish({"goal:g-1"})
    hub.publish({"goal:g-3"})
    assert await next_change(mine) == {"goal:g-1"}
    theirs_next = asyncio.ensure_future(next_change(theirs))
    await asyncio.sleep(0.05)
    assert not theirs_next.done()
    hub.publish({"goal:g-2", "person:p-1"})
    assert await theirs_next == {"goal:g-2"}
    assert await next_change(mine) == {"person:p-1"}
    hub.close()
    with pytest.raises(StopAsyncIteration):
        await next_change(mine)
    with pytest.raises(StopAsyncIteration):
        await next_change(theirs)
    assert hub.subscriber_count == 0


async def test_a_change_between_rendering_and_subscribing_is_heard_an_older_one_is_not() -> None:
    clock = Clock()
    hub = LiveHub(clock)
    hub.publish({"goal:g-1"})
    clock.now += 5
    rendered_at = clock.now
    clock.now += 1
    hub.publish({"goal:g-2"})
    clock.now += 1
    late = hub.changes(hub.subscribe(frozenset({"goal:g-1", "goal:g-2"}), rendered_at), 60)
    assert await next_change(late) == {"goal:g-2"}
    hub.close()


async def test_a_quiet_page_gets_a_heartbeat() -> None:
    hub = LiveHub()
    stream = hub.changes(hub.subscribe(frozenset({"goal:g-1"}), hub.now()), 0.01)
    assert await next_change(stream) == set()
    hub.close()


def test_a_page_token_names_its_keys_and_works_only_for_its_subject() -> None:
    token = mint_page_token(SECRET, "p-1", ["goal:g-1", "person:p-1"], timedelta(hours=1))
    assert page_grant(SECRET, token, "p-1").keys == {"goal:g-1", "person:p-1"}
    with pytest.raises(InvalidPageToken):
        page_grant(SECRET, token, "p-2")
    with pytest.raises(InvalidPageToken):
        page_grant("another-secret-of-at-least-32-bytes!!", token, "p-1")
    with pytest.raises(InvalidPageToken):
        page_grant(SECRET, token[:-2], "p-1")
    expired = mint_page_token(SECRET, "p-1", ["goal:g-1"], timedelta(seconds=-1))
    with pytest.raises(InvalidPageToken):
        page_grant(SECRET, expired, "p-1")


def test_events_name_the_keys_they_change_never_figures() -> None:
    now = datetime.now(UTC)
    progress = GoalProgressUpdated(
        goal_id="g-1",
        owner_id="p-1",
        metric="revenue",
        direction="higher_is_better",
        period=Period(key="2026-03", start=date(2026, 3, 1), end=date(2026, 3, 31)),
        as_of=now,
        actual="10",
        target="100",
        attainment="0.1",
        expected_to_date="20",
        pace="0.5",
        projection="50",
        sequence=1,
    )
    earnings = EarningsUpdated(
        statement_id="s-1",
        person_id="p-1",
        period_key="2026-03",
        total=Money(amount="12.50", currency="CNY"),
        version=1,
        updated_at=now,
    )
    assert changed_keys(progress) == {"goal:g-1"}
    assert changed_keys(earnings) == {"person:p-1"}
    assert event_name("goal:g-1") == "goal-g-1"
