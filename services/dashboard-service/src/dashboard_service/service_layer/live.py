"""The in-process fan-out from the live consumer to the open pages (SSE), and the
page tokens that say which keys a page may hear about.

A page token is a short JWT signed with the service's secret: the subject who
rendered the page, when, and the keys it rendered. The SSE endpoint accepts it
only from that same signed-in subject, so a token copied into another session, or
a page asking for keys it did not render, hears nothing.

Between rendering a page and its stream subscribing (or a stream reconnecting) an
event may arrive; the hub remembers the keys changed in the last minute, so a new
subscription first hears what changed since the page was rendered (or since the
last signal its browser saw, the SSE Last-Event-ID)."""

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt

PAGE_AUDIENCE = "attain-dashboard-page"
MEMORY_SECONDS = 60.0
MEMORY_SIZE = 10_000


class InvalidPageToken(Exception):
    pass


@dataclass(frozen=True)
class PageGrant:
    keys: frozenset[str]
    rendered_at: float


def mint_page_token(secret: str, subject: str, keys: Iterable[str], ttl: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "aud": PAGE_AUDIENCE,
        "iat": now,
        "exp": now + ttl,
        "keys": sorted(set(keys)),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def page_grant(secret: str, token: str, subject: str) -> PageGrant:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=PAGE_AUDIENCE,
            options={"require": ["sub", "iat", "exp"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidPageToken(str(error)) from error
    keys = claims.get("keys")
    if claims["sub"] != subject or not isinstance(keys, list):
        raise InvalidPageToken("the page token belongs to another session")
    return PageGrant(frozenset(str(key) for key in keys), float(claims["iat"]))


@dataclass(eq=False)
class Subscription:
    """One open page. `pending` holds the keys changed since the page last heard:
    a set of the page's own keys, so it is bounded by what the page shows, and a
    burst of events about one goal reaches a slow page as one signal."""

    keys: frozenset[str]
    pending: set[str] = field(default_factory=set)
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class LiveHub:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._by_key: dict[str, set[Subscription]] = {}
        self._recent: deque[tuple[float, str]] = deque(maxlen=MEMORY_SIZE)
        self._closed = False

    @property
    def subscriber_count(self) -> int:
        return len({s for subscribers in self._by_key.values() for s in subscribers})

    def now(self) -> float:
        return self._clock()

    def publish(self, keys: Iterable[str]) -> None:
        """Never waits: the consumer hands every open page its signal and moves on."""
        now = self._clock()
        while self._recent and self._recent[0][0] < now - MEMORY_SECONDS:
            self._recent.popleft()
        for key in keys:
            self._recent.append((now, key))
            for subscription in self._by_key.get(key, ()):
                subscription.pending.add(key)
                subscription.wake.set()

    def subscribe(self, keys: frozenset[str], since: float) -> Subscription:
        subscription = Subscription(keys)
        subscription.pending = {key for at, key in self._recent if at >= since and key in keys}
        if subscription.pending:
            subscription.wake.set()
        for key in keys:
            self._by_key.setdefault(key, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for key in subscription.keys:
            subscribers = self._by_key.get(key)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._by_key[key]

    async def changes(
        self, subscription: Subscription, heartbeat_seconds: float
    ) -> AsyncIterator[set[str]]:
        """Yield the keys changed since the last yield; an empty set when nothing
        changed for `heartbeat_seconds` (the caller sends a keep-alive comment). Ends
        when the hub closes, and unsubscribes however it ends."""
        try:
            while not self._closed:
                try:
                    await asyncio.wait_for(subscription.wake.wait(), timeout=heartbeat_seconds)
                except TimeoutError:
                    yield set()
                    continue
                subscription.wake.clear()
                changed, subscription.pending = subscription.pending, set()
                if changed:
                    yield changed
        finally:
            self.unsubscribe(subscription)

    def close(self) -> None:
        """On shutdown: every open stream ends (browsers reconnect to another replica)."""
        self._closed = True
        for subscribers in self._by_key.values():
            for subscription in subscribers:
                subscription.wake.set()
