"""Alerts as their owners, their managers and the people who plan see them, and
what owners and managers do with them (acknowledge, snooze)."""

from dataclasses import dataclass
from datetime import datetime

from alert_service.domain.lifecycle import Order
from alert_service.service_layer import AlertUnit, alerting
from alert_service.service_layer.visibility import (
    actor,
    may_act,
    sees_target,
    visible_alert,
)
from alert_service.store.tables import Alert, AlertHistory, Delivery, DeliveryAttempt
from servicekit.auth import Principal
from servicekit.errors import Missing
from servicekit.visibility import Visibility


@dataclass(frozen=True)
class Filters:
    owner_id: str | None = None
    org_unit_id: str | None = None
    goal_id: str | None = None
    rule: str | None = None
    severity: str | None = None
    statuses: tuple[str, ...] = ()  # any of these; every status when empty


@dataclass(frozen=True)
class AlertPage:
    alerts: list[Alert]
    count: int
    next_after: str | None


@dataclass(frozen=True)
class DeliveryView:
    delivery: Delivery
    attempts: list[DeliveryAttempt]
    # Whether the caller may see its target (and what the channel answered).
    with_target: bool


@dataclass(frozen=True)
class AlertDetail:
    alert: Alert
    history: list[AlertHistory]
    deliveries: list[DeliveryView]


async def page(
    uow: AlertUnit,
    principal: Principal,
    filters: Filters,
    *,
    order: Order = "newest",
    after: str | None,
    limit: int,
    offset: int,
) -> AlertPage:
    seen = await Visibility.of(principal, uow.store.org)
    if not seen.everything and seen.person_id is None:
        return AlertPage([], 0, None)
    alerts, total, more = await uow.store.alerts.page(
        owner_id=filters.owner_id,
        org_unit_id=filters.org_unit_id,
        goal_id=filters.goal_id,
        rule=filters.rule,
        severity=filters.severity,
        statuses=filters.statuses,
        visible_to=None if seen.everything else (seen.person_id or "", sorted(seen.managed)),
        order=order,
        after=after,
        limit=limit,
        offset=offset,
    )
    return AlertPage(alerts, total, alerts[-1].id if more else None)


async def detail(uow: AlertUnit, principal: Principal, alert_id: str) -> AlertDetail:
    alert, _ = await visible_alert(uow.store, principal, alert_id)
    return await _detail(uow, principal, alert)


async def acknowledge(
    uow: AlertUnit, principal: Principal, alert_id: str, note: str | None
) -> AlertDetail:
    alert = await _actionable(uow, principal, alert_id)
    alerting.acknowledge(uow, alert, actor(principal), note, uow.clock.now())
    return await _detail(uow, principal, alert)


async def snooze(
    uow: AlertUnit, principal: Principal, alert_id: str, until: datetime, note: str | None
) -> AlertDetail:
    alert = await _actionable(uow, principal, alert_id)
    alerting.snooze(uow, alert, actor(principal), until, note, uow.clock.now())
    return await _detail(uow, principal, alert)


async def _actionable(uow: AlertUnit, principal: Principal, alert_id: str) -> Alert:
    alert, seen = await visible_alert(uow.store, principal, alert_id, for_update=True)
    if not may_act(principal, seen, alert):
        raise Missing(f"no alert {alert_id}")
    return alert


async def _detail(uow: AlertUnit, principal: Principal, alert: Alert) -> AlertDetail:
    deliveries = await uow.store.deliveries.of_alert(alert.id)
    attempts = await uow.store.deliveries.attempts_of([d.id for d in deliveries])
    return AlertDetail(
        alert=alert,
        history=await uow.store.alerts.history(alert.id),
        deliveries=[
            DeliveryView(
                d, [a for a in attempts if a.delivery_id == d.id], sees_target(principal, d)
            )
            for d in deliveries
        ],
    )
