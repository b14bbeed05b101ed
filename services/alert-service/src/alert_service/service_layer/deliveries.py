"""Sending the queued notifications, each on its own, and recording every
attempt. A claimed delivery is leased (its next attempt moved past the send
timeout) in a short transaction before it is sent, so a slow or failing channel
holds up neither the other channels nor the database, and a delivery whose
sender died is sent again when its lease runs out (at least once)."""

import time
from datetime import datetime, timedelta

import structlog
from prometheus_client import Counter, Gauge

from alert_service.clients.senders import Senders, SendResult
from alert_service.domain.backoff import next_attempt_at
from alert_service.service_layer import AlertUnit
from alert_service.service_layer.notifications import from_json
from alert_service.settings import AlertSettings
from alert_service.store.tables import Delivery, DeliveryAttempt
from servicekit.errors import Clash, Missing

log = structlog.get_logger()
NOTIFICATIONS = Counter(
    "attain_notifications_total",
    "Delivery attempts by channel and outcome (sent, retrying, failed)",
    ["channel", "outcome"],
)
DELIVERY_BACKLOG = Gauge("attain_delivery_backlog", "Deliveries waiting to be sent")


async def lease_due(uow: AlertUnit, settings: AlertSettings, limit: int) -> list[str]:
    """Up to `limit` due deliveries, leased to this sender; their ids."""
    now = uow.clock.now()
    due = await uow.store.deliveries.claim_due(now, limit)
    lease = now + timedelta(seconds=3 * settings.http_timeout_seconds)
    for delivery in due:
        delivery.next_attempt_at = lease
    DELIVERY_BACKLOG.set(await uow.store.deliveries.pending_count())
    return [delivery.id for delivery in due]


async def send(uow: AlertUnit, settings: AlertSettings, senders: Senders, delivery_id: str) -> None:
    delivery = await uow.store.deliveries.one(delivery_id)
    if delivery is None or delivery.status != "pending":
        return
    started = time.perf_counter()
    result = await senders.send(
        delivery.channel,  # type: ignore[arg-type]
        delivery.target,
        delivery.secret,
        from_json(delivery.notification),
    )
    uow.store.deliveries.add_attempt(
        record_attempt(delivery, result, uow.clock.now(), started, settings)
    )


def record_attempt(
    delivery: Delivery,
    result: SendResult,
    now: datetime,
    started: float,
    settings: AlertSettings,
) -> DeliveryAttempt:
    """A failure that can heal is retried with backoff; one that cannot, or that
    ran out of attempts, is marked failed: kept, listed, and retryable by an admin."""
    delivery.attempts += 1
    delivery.last_detail = result.detail
    retry_at = (
        next_attempt_at(delivery.attempts, now, base_seconds=settings.delivery_retry_base_seconds)
        if result.retryable
        else None
    )
    if result.ok:
        delivery.status, delivery.sent_at, outcome = "sent", now, "sent"
    elif retry_at is not None:
        delivery.next_attempt_at, outcome = retry_at, "retrying"
    else:
        delivery.status, outcome = "failed", "failed"
    NOTIFICATIONS.labels(delivery.channel, outcome).inc()
    log.info(
        "alert.delivery.attempted",
        delivery_id=delivery.id,
        alert_id=delivery.alert_id,
        channel=delivery.channel,
        outcome=outcome,
        detail=result.detail,
    )
    return DeliveryAttempt(
        delivery_id=delivery.id,
        at=now,
        ok=result.ok,
        detail=result.detail,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )


async def retry(uow: AlertUnit, delivery_id: str) -> Delivery:
    """A failed delivery (out of attempts, or refused for good) goes out again,
    e.g. after its URL was fixed; its attempts so far stay in its log."""
    delivery = await uow.store.deliveries.one(delivery_id, for_update=True)
    if delivery is None:
        raise Missing(f"no delivery {delivery_id}")
    if delivery.status != "failed":
        raise Clash(f"delivery {delivery_id} is {delivery.status}, not failed")
    subscription = await uow.store.subscriptions.one(delivery.subscription_id)
    if subscription is not None:
        delivery.target, delivery.secret = subscription.target, subscription.secret
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, uow.clock.now()
    await uow.store.deliveries.wake_sender()
    return delivery
