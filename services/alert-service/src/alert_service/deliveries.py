"""The delivery worker: sends due notifications, each on its own, and records
every attempt. A claimed delivery is leased (its next attempt moved past the
send timeout) in a short transaction before it is sent, so a slow or failing
channel holds up neither the other channels nor the database, and a delivery
whose sender died is sent again when its lease runs out (at least once)."""

import asyncio
import time
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from alert_service.domain.backoff import next_attempt_at
from alert_service.metrics import DELIVERY_BACKLOG, NOTIFICATIONS
from alert_service.notifications import WAKE_CHANNEL, from_json
from alert_service.senders import Senders, SendResult, SmtpConfig
from alert_service.settings import AlertSettings
from alert_service.store import queries
from alert_service.store.tables import Delivery, DeliveryAttempt
from servicekit.app import ServiceRuntime
from servicekit.wakeup import listening

log = structlog.get_logger()


def smtp_config(settings: AlertSettings) -> SmtpConfig | None:
    if settings.smtp_host is None:
        return None
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
        use_tls=settings.smtp_use_tls,
        timeout_seconds=settings.http_timeout_seconds,
    )


async def run_deliveries(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
    settings = runtime.settings
    assert isinstance(settings, AlertSettings)
    async with (
        httpx.AsyncClient(timeout=settings.http_timeout_seconds) as http,
        listening(runtime.engine, WAKE_CHANNEL) as wakeup,
    ):
        senders = Senders(http, smtp_config(settings), runtime.clock.now)
        sending: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            wakeup.clear()
            for delivery_id in await _lease_due(runtime, settings):
                task = asyncio.create_task(_send(runtime, settings, senders, delivery_id))
                sending.add(task)
                task.add_done_callback(sending.discard)
            await wakeup.wait(stop, settings.delivery_poll_seconds)
        await asyncio.gather(*sending, return_exceptions=True)


async def _lease_due(runtime: ServiceRuntime, settings: AlertSettings) -> list[str]:
    async with runtime.unit_of_work() as uow:
        now = uow.clock.now()
        due = await queries.claim_due_deliveries(uow.session, now, settings.delivery_batch_size)
        lease = now + timedelta(seconds=3 * settings.http_timeout_seconds)
        for delivery in due:
            delivery.next_attempt_at = lease
        DELIVERY_BACKLOG.set(await queries.pending_deliveries_count(uow.session))
        await uow.commit()
        return [delivery.id for delivery in due]


async def _send(
    runtime: ServiceRuntime, settings: AlertSettings, senders: Senders, delivery_id: str
) -> None:
    async with runtime.unit_of_work() as uow:
        delivery = await uow.session.get(Delivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return
        started = time.perf_counter()
        result = await senders.send(
            delivery.channel,  # type: ignore[arg-type]
            delivery.target,
            delivery.secret,
            from_json(delivery.notification),
        )
        record_attempt(uow.session, delivery, result, uow.clock.now(), started, settings)
        await uow.commit()


def record_attempt(
    session: AsyncSession,
    delivery: Delivery,
    result: SendResult,
    now: datetime,
    started: float,
    settings: AlertSettings,
) -> None:
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
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            at=now,
            ok=result.ok,
            detail=result.detail,
            duration_ms=round((time.perf_counter() - started) * 1000),
        )
    )
    NOTIFICATIONS.labels(delivery.channel, outcome).inc()
    log.info(
        "alert.delivery.attempted",
        delivery_id=delivery.id,
        alert_id=delivery.alert_id,
        channel=delivery.channel,
        outcome=outcome,
        detail=result.detail,
    )
