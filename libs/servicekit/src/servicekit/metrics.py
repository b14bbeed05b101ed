"""Prometheus metrics every service exposes on /metrics. Defined once here so the
names and labels are the same in every service."""

import time
from collections.abc import Awaitable, Callable

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from servicekit.db import POOL_MAX_OVERFLOW

HTTP_REQUESTS = Counter(
    "attain_http_requests_total",
    "HTTP requests by route template and status",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "attain_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["service", "method", "route"],
)
EVENTS_PUBLISHED = Counter(
    "attain_events_published_total", "Events published from the outbox", ["service", "type"]
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "attain_outbox_publish_failures_total", "Outbox batches that failed to publish", ["service"]
)
OUTBOX_BACKLOG = Gauge("attain_outbox_backlog", "Outbox rows not yet published", ["service"])
EVENTS_CONSUMED = Counter(
    "attain_events_consumed_total",
    "Events consumed, by outcome: applied, duplicate (already in the inbox) or ignored",
    ["service", "group", "type", "outcome"],
)
EVENTS_DEAD_LETTERED = Counter(
    "attain_events_dead_lettered_total",
    "Events sent to the dead-letter topic after failing",
    ["service", "group", "type"],
)
CONSUMER_COMMIT_FAILURES = Counter(
    "attain_consumer_commit_failures_total",
    "Offset commits that failed (e.g. after a rebalance); the inbox absorbs the redelivery",
    ["service", "group"],
)
CONSUMER_LAG = Gauge(
    "attain_consumer_lag",
    "Messages between the consumer's position and the partition's end",
    ["service", "group", "topic", "partition"],
)
EVENT_AGE = Histogram(
    "attain_event_age_seconds",
    "Time from an event's creation to its handling",
    ["service", "type"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
WEBHOOKS_PER_COMMIT = Histogram(
    "attain_webhooks_per_commit",
    "Webhook deliveries applied in one transaction (group commit)",
    ["service"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
OUTBOX_OLDEST_AGE = Gauge(
    "attain_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest outbox row not yet published (0 when none waits), as the relay last "
    "looked, and growing from then on while it cannot look again",
    ["service"],
)
DB_POOL_IN_USE = Gauge(
    "attain_db_pool_connections_in_use",
    "Database connections checked out of the replica's pool",
    ["service"],
)
DB_POOL_LIMIT = Gauge(
    "attain_db_pool_connections_limit",
    "Connections the replica's pool opens at most (its size and its overflow)",
    ["service"],
)


def watch_pool(service: str, engine: AsyncEngine) -> None:
    """The pool's own counters, read at each scrape: no query, no work per request."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return
    DB_POOL_IN_USE.labels(service).set_function(pool.checkedout)
    DB_POOL_LIMIT.labels(service).set_function(lambda: pool.size() + POOL_MAX_OVERFLOW)


class QueueDepth:
    """A work queue's depth as its worker sees it after taking a batch. A batch shorter
    than the worker takes leaves the queue empty, so nothing is counted; after a full one
    the queue is counted at most once a second: a count per batch would cost more than
    the batch when the queue is deep."""

    def __init__(self, gauge: Gauge, every_seconds: float = 1.0) -> None:
        self._gauge = gauge
        self._every_seconds = every_seconds
        self._next_count = 0.0

    async def after_batch(
        self, taken: int, batch_size: int, count: Callable[[], Awaitable[int]]
    ) -> None:
        if taken < batch_size:
            self._gauge.set(0)
        elif time.monotonic() >= self._next_count:
            self._next_count = time.monotonic() + self._every_seconds
            self._gauge.set(await count())


RETENTION_DELETED_ROWS = Counter(
    "attain_retention_deleted_rows_total",
    "Outbox and inbox rows deleted by retention (servicekit.retention)",
    ["service", "table"],
)
DEAD_LETTERS_REPLAYED = Counter(
    "attain_dead_letters_replayed_total",
    "Dead letters put back on their original topic for the group they failed in",
    ["service", "group"],
)
