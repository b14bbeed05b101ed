"""Prometheus metrics every service exposes on /metrics. Defined once here so the
names and labels are the same in every service."""

from prometheus_client import Counter, Gauge, Histogram

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
