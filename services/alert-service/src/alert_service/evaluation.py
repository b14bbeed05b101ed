"""Applying the `pace` rule to goal snapshots and carrying each goal's alert
through its lifecycle: the one code path behind both the progress consumer and
the on-demand evaluation, so replaying an instant gives what the consumer did."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import uuid4
from zoneinfo import ZoneInfo

import structlog

from alert_service.domain.lifecycle import Transition, next_transition
from alert_service.domain.pace import PaceFinding, evaluate_pace, pace_message
from alert_service.settings import AlertSettings
from alert_service.store import events, queries
from alert_service.store.tables import Alert, GoalSnapshot
from attain_contracts.types import Direction, Severity
from servicekit.uow import UnitOfWork

log = structlog.get_logger()

PACE_RULE = "pace"


@dataclass(frozen=True)
class AlertChange:
    alert_id: str
    goal_id: str
    owner_id: str
    rule: str
    transition: Transition
    severity: Severity
    status: str


async def apply_pace_rule(
    uow: UnitOfWork,
    settings: AlertSettings,
    evaluations: Iterable[tuple[GoalSnapshot, datetime]],
) -> list[AlertChange]:
    """Evaluate each snapshot at its instant and carry the goal's pace alert
    through its lifecycle. Returns the changes of status or severity, not the
    refreshes of an alert's figures."""
    pending = list(evaluations)
    open_alerts = await queries.open_alerts(
        uow.session, PACE_RULE, [snapshot.goal_id for snapshot, _ in pending]
    )
    zone = ZoneInfo(settings.timezone)
    changes = []
    for snapshot, as_of in pending:
        as_of_date = as_of.astimezone(zone).date()
        direction = cast(Direction, snapshot.direction)
        finding = evaluate_pace(
            snapshot.actual,
            snapshot.target,
            snapshot.period_start,
            snapshot.period_end,
            as_of_date,
            direction,
            settings.pace_threshold,
            settings.pace_critical_threshold,
            settings.pace_grace_share,
        )
        alert = open_alerts.get(snapshot.goal_id)
        transition = next_transition(
            cast(Severity, alert.severity) if alert else None,
            finding.severity if finding else None,
        )
        if transition is None:
            continue
        if transition is Transition.RESOLVED:
            assert alert is not None
            alert = _resolve(uow, alert, as_of)
        else:
            assert finding is not None
            message = pace_message(
                snapshot.goal_id, direction, snapshot.actual, snapshot.target, as_of_date, finding
            )
            alert = _record(uow, alert, snapshot, as_of, finding, message)
            if transition.notifies:
                uow.publish(events.deviation_detected(alert))
        if transition is not Transition.REFRESHED:
            changes.append(_change(alert, transition))
    return changes


def _resolve(uow: UnitOfWork, alert: Alert, as_of: datetime) -> Alert:
    """Closed with the figures of its last deviation, which is what it reported."""
    alert.status, alert.resolved_at = "resolved", as_of
    uow.publish(events.deviation_resolved(alert))
    return alert


def _record(
    uow: UnitOfWork,
    alert: Alert | None,
    snapshot: GoalSnapshot,
    as_of: datetime,
    finding: PaceFinding,
    message: str,
) -> Alert:
    """The open alert with the finding's severity and figures, opened if none is."""
    if alert is None:
        alert = Alert(
            id=f"alert_{uuid4().hex[:16]}",
            goal_id=snapshot.goal_id,
            rule=PACE_RULE,
            status="open",
            opened_at=as_of,
            owner_id=snapshot.owner_id,
            severity=finding.severity,
            as_of=as_of,
            actual=snapshot.actual,
            expected=finding.expected,
            target=snapshot.target,
            pace=finding.pace,
            message=message,
        )
        uow.session.add(alert)
        return alert
    # The owner follows the goal: a re-assigned goal's alert goes to its new owner.
    alert.owner_id = snapshot.owner_id
    alert.severity = finding.severity
    alert.as_of = as_of
    alert.actual = snapshot.actual
    alert.expected = finding.expected
    alert.target = snapshot.target
    alert.pace = finding.pace
    alert.message = message
    return alert


def _change(alert: Alert, transition: Transition) -> AlertChange:
    log.info(
        "alert.changed",
        alert_id=alert.id,
        goal_id=alert.goal_id,
        rule=alert.rule,
        transition=str(transition),
        severity=alert.severity,
    )
    return AlertChange(
        alert_id=alert.id,
        goal_id=alert.goal_id,
        owner_id=alert.owner_id,
        rule=alert.rule,
        transition=transition,
        severity=cast(Severity, alert.severity),
        status=alert.status,
    )
