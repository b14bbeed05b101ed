"""Who hears about an alert, and on which channels: one delivery row per
(channel, address), written in the transaction that decided to notify, so a
notification is never lost and never sent for a decision that rolled back.

Opened and raised alerts go to the owner's `own` subscriptions and to the
`team` subscriptions of managers of any org unit on the goal's path; an owner
with no subscription at all is e-mailed (DOMAIN.md §6: the owner is notified by
default). Escalations go to the manager's subscriptions, or their e-mail."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import uuid4

import structlog

from alert_service.domain import messages
from alert_service.domain.channels import Notification
from alert_service.domain.lifecycle import SEVERITY_RANK
from alert_service.domain.quiet_hours import deliverable_at
from alert_service.service_layer import AlertUnit
from alert_service.settings import AlertSettings
from alert_service.store.tables import Alert, Delivery, OrgUnit, Person, Subscription
from attain_contracts.types import write_money, write_ratio

log = structlog.get_logger()


async def notify(
    uow: AlertUnit, settings: AlertSettings, notices: Sequence[tuple[Alert, str]]
) -> int:
    """Queue the notifications of each (alert, event); returns how many deliveries
    were queued. Who to tell is read once for the whole batch: a sweep opens
    thousands of alerts at once."""
    if not notices:
        return 0
    store = uow.store
    units = await store.org.units(
        {u for alert, event in notices if event != "escalated" for u in alert.org_path}
    )
    managers = {
        alert.id: set() if event == "escalated" else _managers_above(alert, units)
        for alert, event in notices
    }
    recipients = {alert.id: _recipient(alert, event) for alert, event in notices}
    people = await store.org.people(
        {*recipients.values(), *(alert.owner_id for alert, _ in notices)}
    )
    subscriptions: dict[str, list[Subscription]] = defaultdict(list)
    for found in await store.subscriptions.enabled_of(
        {*recipients.values(), *(m for ms in managers.values() for m in ms)}
    ):
        subscriptions[found.person_id].append(found)
    now = uow.clock.now()
    queued = 0
    for alert, event in notices:
        recipient, owner = recipients[alert.id], people.get(alert.owner_id)
        targets = _targets(
            settings,
            alert,
            event,
            recipient,
            managers[alert.id],
            subscriptions,
            people.get(recipient),
        )
        for person_id, subscription, address in targets:
            store.deliveries.add(
                _delivery(settings, alert, event, person_id, subscription, address, owner, now)
            )
        queued += len(targets)
        if not targets:
            log.info("alert.notification.nobody", alert_id=alert.id, recipient=recipient, on=event)
    if queued:
        await store.deliveries.wake_sender()
    return queued


def _managers_above(alert: Alert, units: dict[str, OrgUnit]) -> set[str]:
    """Managers of the units on the goal's path, who may follow their `team`."""
    return {
        manager
        for u in alert.org_path
        if u in units and (manager := units[u].manager_id) is not None and manager != alert.owner_id
    }


def _recipient(alert: Alert, event: str) -> str:
    recipient = alert.escalated_to if event == "escalated" else alert.owner_id
    assert recipient is not None
    return recipient


def _targets(
    settings: AlertSettings,
    alert: Alert,
    event: str,
    recipient: str,
    managers: set[str],
    subscriptions: dict[str, list[Subscription]],
    person: Person | None,
) -> list[tuple[str, Subscription | None, str]]:
    """(person, subscription or None for the default e-mail, address), one per
    channel and address."""
    escalated = event == "escalated"
    chosen: list[tuple[str, Subscription | None, str]] = [
        (s.person_id, s, s.target)
        for person_id in (recipient, *sorted(managers))
        for s in subscriptions.get(person_id, ())
        if _at_least(alert.severity, s.min_severity)
        and (
            (person_id == recipient and (escalated or s.scope == "own"))
            or (person_id != recipient and s.scope == "team")
        )
    ]
    if (
        not subscriptions.get(recipient)
        and person is not None
        and person.email
        and _at_least(alert.severity, settings.default_min_severity)
    ):
        chosen.append((recipient, None, person.email))
    seen: set[tuple[str, str]] = set()
    unique = []
    for person_id, subscription, address in chosen:
        channel = subscription.channel if subscription else "email"
        if (channel, address) not in seen:
            seen.add((channel, address))
            unique.append((person_id, subscription, address))
    return unique


def _delivery(
    settings: AlertSettings,
    alert: Alert,
    event: str,
    person_id: str,
    subscription: Subscription | None,
    address: str,
    owner: Person | None,
    now: datetime,
) -> Delivery:
    delivery_id = f"dlv_{uuid4().hex[:16]}"
    owner_name = owner.name if owner is not None else alert.owner_id
    return Delivery(
        id=delivery_id,
        alert_id=alert.id,
        event=event,
        person_id=person_id,
        subscription_id=subscription.id if subscription else None,
        channel=subscription.channel if subscription else "email",
        target=address,
        secret=subscription.secret if subscription else None,
        notification=to_json(_notification(settings, alert, event, owner_name, delivery_id, now)),
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


def _at_least(severity: str, minimum: str) -> bool:
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[minimum]  # type: ignore[index]


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
        "actual": write_money(alert.actual),
        "expected_to_date": write_money(alert.expected),
        "target": write_money(alert.target),
        "pace": None if alert.pace is None else write_ratio(alert.pace),
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
