"""When a failed delivery is tried again: exponential backoff, capped, without
jitter so that a test (or an admin reading the delivery log) can replay the
schedule. With the defaults the waits are 30 s, 1, 2, 4, 8, 16 and 32 min, and
the eighth failure gives up, about an hour after the first try."""

from datetime import datetime, timedelta

MAX_ATTEMPTS = 8


def next_attempt_at(
    attempts: int, now: datetime, *, base_seconds: float = 30, cap_seconds: float = 3600
) -> datetime | None:
    """After `attempts` failed attempts (1 after the first), when to try again;
    None when the delivery has had its MAX_ATTEMPTS and is given up."""
    if attempts < 1:
        raise ValueError(f"a retry follows a failed attempt, not {attempts}")
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = min(base_seconds * 2 ** (attempts - 1), cap_seconds)
    return now + timedelta(seconds=delay)
