"""alert-service's own figures on `/metrics` (ARCHITECTURE.md, Observability)."""

from prometheus_client import Counter, Gauge, Histogram

ALERTS_RAISED = Counter(
    "attain_alerts_raised_total",
    "Alerts opened or raised, by rule and severity",
    ["rule", "severity"],
)
ALERTS_ESCALATED = Counter("attain_alerts_escalated_total", "Alerts escalated", ["rule"])
NOTIFICATIONS = Counter(
    "attain_notifications_total",
    "Delivery attempts by channel and outcome (sent, retrying, failed)",
    ["channel", "outcome"],
)
DELIVERY_BACKLOG = Gauge("attain_delivery_backlog", "Deliveries waiting to be sent")
EVALUATION_SECONDS = Histogram(
    "attain_alert_evaluation_seconds",
    "Time to evaluate a batch of goals, by trigger (progress, sweep, replay)",
    ["trigger"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30),
)
