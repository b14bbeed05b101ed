"""A failed delivery is retried after 30 s, doubling each time, at most an hour
apart, and given up after MAX_ATTEMPTS."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alert_service.domain.backoff import MAX_ATTEMPTS, next_attempt_at

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


def wait(attempts: int, **options: float) -> timedelta | None:
    at = next_attempt_at(attempts, NOW, **options)
    return None if at is None else at - NOW


def test_waits_double_from_the_base() -> None:
    waits = [wait(attempts) for attempts in range(1, MAX_ATTEMPTS)]

    assert waits == [timedelta(seconds=30 * 2**n) for n in range(MAX_ATTEMPTS - 1)]


def test_waits_are_capped() -> None:
    assert wait(1, base_seconds=1000, cap_seconds=1500) == timedelta(seconds=1000)
    assert wait(2, base_seconds=1000, cap_seconds=1500) == timedelta(seconds=1500)
    assert wait(7, base_seconds=1000, cap_seconds=1500) == timedelta(seconds=1500)


def test_gives_up_at_max_attempts() -> None:
    assert MAX_ATTEMPTS == 8
    assert wait(MAX_ATTEMPTS - 1) is not None
    assert wait(MAX_ATTEMPTS) is None
    assert wait(MAX_ATTEMPTS + 5) is None


def test_a_retry_needs_a_failed_attempt() -> None:
    with pytest.raises(ValueError):
        next_attempt_at(0, NOW)


@given(
    st.integers(1, MAX_ATTEMPTS - 1),
    st.floats(0.5, 600),
    st.floats(1, 86400),
)
def test_schedule_is_deterministic_bounded_and_never_shrinks(
    attempts: int, base: float, cap: float
) -> None:
    first = next_attempt_at(attempts, NOW, base_seconds=base, cap_seconds=cap)
    again = next_attempt_at(attempts, NOW, base_seconds=base, cap_seconds=cap)
    following = next_attempt_at(attempts + 1, NOW, base_seconds=base, cap_seconds=cap)

    assert first == again
    assert first is not None
    assert NOW < first <= NOW + timedelta(seconds=cap)
    assert following is None or following >= first
