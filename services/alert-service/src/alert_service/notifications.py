"""Who hears about an alert, and on which channels: one delivery row per
(channel, address), written in the transaction that decided to notify, so a
notification is never lost and never sent for a decision that rolled back.

Opened and raised alerts go to the owner's `own` subscriptions and to the
`team` subscriptions of managers of any org unit on the goal's path; an owner
with no subscription at all is e-mailed (DOMAIN.md §6: the owner is notified by
default). Escalations go to the manager's subscriptions, or their e-mail."""

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import uuid4

import structlog
from sqlalchemy import text

from alert_service.domain import messages
from alert_service.domain.channels import Notification
from alert_service.domain.lifecycle import SEVERITY_RANK
from alert_service.domain.quiet_hours import deliverable_at
from alert_service.settings import AlertSettings
from alert_service.store import queries
from alert_service.store.tables import Alert, Delivery, Person, Subscription
from servicekit.uow import UnitOfWork

log = structlog.get_logger()
WAKE_CHANNEL = "alert_delivery"


async def notify(
    uow: UnitOfWork, settings: AlertSettings, alert: Alert, event: str, owner: Person | None
) -> int:
    """Queue the alert's notifications; returns how many deliveries were queued."""
    session = uow.session
    escalated = event == "escalated"
    recipient = alert.escalated_to if escalated else alert.owner_id
    assert recipient is not None
    managers = set() if escalated else await _managers_on_path(uow, alert)
    subscriptions = await queries.subscriptions_of(session, {recipient, *managers})
    chosen = [
        s
        for s in subscriptions
        if _at_least(alert.severity, s.min_severity)
        and (
            (s.person_id == recipient and (escalated or s.scope == "own"))
            or (s.person_id in managers and s.scope == "team")
        )
    ]
    has_own = any(s.person_id == recipient for s in subscriptions)
    person = (await queries.people(session, {recipient})).get(recipient)
    targets: list[tuple[str, Subscription | None]] = [(s.person_id, s) for s in chosen]
    if (
        not has_own
        and person is not None
        and person.email
        and _at_least(alert.severity, settings.default_min_severity)
    ):
        targets.append((recipient, None))
    now = uow.clock.now()
    owner_name = owner.name if owner is not None else alert.owner_id
    queued, seen = 0, set()
    for person_id, subscription in targets:
        channel = subscription.channel if subscription else "email"
        address = subscription.target if subscription else (person.email if person else None)
        if address is None:
            continue
        if (channel, address) in seen:
            continue
        seen.add((channel, address))
        delivery_id = f"dlv_{uuid4().hex[:16]}"
        notification = _notification(settings, alert, event, owner_name, delivery_id, now)
        session.add(
            Delivery(
                id=delivery_id,
                alert_id=alert.id,
                event=event,
                person_id=person_id,
                subscription_id=subscription.id if subscription else None,
                channel=channel,
                target=address,
                secret=subscription.secret if subscription else None,
                notification=to_json(notification),
                status="pending",
                next_attempt_at=(
                    deliverable_at(
                        now, subscription.quiet_start, subscription.quiet_end, subscription.timezone
                    )
                    if subscription
                    else now
                ),
                created_at=now,
            )
        )
        queued += 1
    if queued:
        await session.execute(text(f"SELECT pg_notify('{WAKE_CHANNEL}', '')"))
    else:
        log.info("alert.notification.nobody", alert_id=alert.id, recipient=recipient, on=event)
    return queued


def _at_least(severity: str, minimum: str) -> bool:
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[minimum]  # type: ignore[index]


async def _managers_on_path(uow: UnitOfWork, alert: Alert) -> set[str]:
    units = await queries.org_units(uow.session, alert.org_path)
    return {u.manager_id for u in units.values() if u.manager_id and u.manager_id != alert.owner_id}


def _notification(
    settings: AlertSettings,
    alert: Alert,
    event: str,
    owner_name: str,
    message_id: str,
    now: datetime,
) -> Notification:
    link = settings.goal_link_template.format(goal_id=alert.goal_id)
    label = str(alert.figures.get("label", alert.goal_id))
    return Notification(
        message_id=message_id,
        event=event,
        severity=alert.severity,
        title=messages.notification_title(alert.severity, event, alert.rule, label),
        text=messages.notification_text(alert.message, event, owner_name),
        link=link,
        data=alert_data(alert, link),
        created_at=now,
    )


def alert_data(alert: Alert, link: str) -> dict[str, Any]:
    """The alert as a webhook receiver gets it."""
    return {
        "alert_id": alert.id,
        "goal_id": alert.goal_id,
        "owner_id": alert.owner_id,
        "org_unit_id": alert.org_unit_id,
        "rule": alert.rule,
        "severity": alert.severity,
        "status": alert.status,
        "as_of": alert.as_of.isoformat(),
        "actual": f"{alert.actual:f}",
        "expected_to_date": f"{alert.expected:f}",
        "target": f"{alert.target:f}",
        "pace": None if alert.pace is None else f"{alert.pace:f}",
        "detail": alert.detail,
        "message": alert.message,
        "escalated_to": alert.escalated_to,
        "link": link,
    }


def to_json(notification: Notification) -> dict[str, Any]:
    data = asdict(notification)
    data["created_at"] = notification.created_at.isoformat()
    return data


def from_json(data: dict[str, Any]) -> Notification:
    return Notification(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})
