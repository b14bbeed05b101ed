"""Rate limits per client, in process: a token bucket per webhook source, per token subject
and per client address, and a small one per address that only failed authentications (401)
drain, so a wrong secret is refused with 429 long before a CRM's normal burst would be.

The buckets live in each replica's memory: with N replicas behind a balancer a client gets up
to N times a limit. That bounds abuse, which is the point; it is not a quota."""

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.auth import TokenVerifier
from servicekit.problems import problem_response
from servicekit.settings import ServiceSettings

# Probes and scrapes are not clients of the API.
_EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Enough buckets for every client of a busy hour; the least recently seen go first.
MAX_BUCKETS = 100_000


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int


@dataclass
class TokenBucket:
    """`burst` tokens at most, refilled at `per_second`; a request takes one."""

    rate: Rate
    tokens: float
    updated: float

    @classmethod
    def full(cls, rate: Rate, now: float) -> "TokenBucket":
        return cls(rate, float(rate.burst), now)

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.rate.burst), self.tokens + elapsed * self.rate.per_second)
        self.updated = max(self.updated, now)

    def take(self, now: float) -> float:
        """0 when a token was taken; else the seconds until one will be there."""
        self.refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate.per_second

    def wait(self, now: float) -> float:
        """The seconds until a token will be there, taking none."""
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate.per_second


class Buckets:
    """A bucket per key, created full on first sight, at most `capacity` of them."""

    def __init__(self, rate: Rate, capacity: int = MAX_BUCKETS) -> None:
        self.rate = rate
        self.capacity = capacity
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def get(self, key: str, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket.full(self.rate, now)
            if len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket


@dataclass(frozen=True)
class RateLimits:
    webhook: Rate
    api: Rate
    failed_auth: Rate


def rate_limits(settings: ServiceSettings) -> RateLimits:
    return RateLimits(
        webhook=Rate(settings.rate_limit_webhook_per_second, settings.rate_limit_webhook_burst),
        api=Rate(settings.rate_limit_api_per_second, settings.rate_limit_api_burst),
        failed_auth=Rate(
            settings.rate_limit_failed_auth_per_second, settings.rate_limit_failed_auth_burst
        ),
    )


class RateLimiter:
    """The ASGI middleware: keys each request, answers 429 with `Retry-After` when its bucket
    is empty, and charges a 401 to the client address's failure bucket. A caller is known by
    the subject of a token that verifies with keys already cached: fetching the identity
    provider's keys here would hold up the event loop (the endpoint's own check fetches them)."""

    def __init__(
        self,
        app: ASGIApp,
        limits: RateLimits,
        *,
        verifier: TokenVerifier,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.clock = clock
        self.webhooks = Buckets(limits.webhook)
        self.callers = Buckets(limits.api)
        self.failures = Buckets(limits.failed_auth)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        now = self.clock()
        address = f"address:{_client_address(scope)}"
        wait = self.failures.get(address, now).wait(now)
        if not wait:
            buckets, key = self._bucket_of(scope, address)
            wait = buckets.get(key, now).take(now)
        if wait:
            await _too_many(scope, receive, send, wait)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status == 401:
            self.failures.get(address, now).take(self.clock())

    def _bucket_of(self, scope: Scope, address: str) -> tuple[Buckets, str]:
        parts = scope["path"].split("/")
        if len(parts) > 2 and parts[1] == "webhooks":
            return self.webhooks, f"source:{parts[2]}"
        subject = self._subject(scope)
        return self.callers, f"subject:{subject}" if subject else address

    def _subject(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not token:
                    return None
                principal = self.verifier.cached_principal(token)
                return principal.subject if principal else None
        return None


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _too_many(scope: Scope, receive: Receive, send: Send, wait: float) -> None:
    seconds = max(1, math.ceil(wait))
    response = problem_response(
        429,
        "too-many-requests",
        "Too many requests",
        f"this client's rate limit is used up; retry in {seconds} s",
        instance=scope["path"],
        headers={"Retry-After": str(seconds)},
    )
    await response(scope, receive, send)
