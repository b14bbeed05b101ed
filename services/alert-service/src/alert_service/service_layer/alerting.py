"""An alert's life (DOMAIN.md §6): opened by a finding, raised or lowered as the
finding's severity moves, acknowledged or snoozed by its owner or their manager,
escalated to the manager when critical and unacknowledged for too long, and
resolved when the condition clears. Every step is a history row; opening and
raising publish `DeviationDetected` and notify, resolving publishes
`DeviationResolved`, escalating publishes `AlertEscalated` and notifies the manager."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import uuid4

import structlog
from prometheus_client import Counter

from alert_service.domain import messages
from alert_service.domain.lifecycle import SEVERITY_RANK, Transition, next_transition
from alert_service.domain.rules import Finding, RuleName
from alert_service.service_layer import AlertUnit, events, notifications
from alert_service.settings import AlertSettings
from alert_service.store.tables import Alert, AlertHistory, OrgUnit, Person
from attain_contracts.types import Severity
from servicekit.clock import local_day
from servicekit.errors import Clash, FieldError

log = structlog.get_logger()
SYSTEM = "system"
ALERTS_RAISED = Counter(
    "attain_alerts_raised_total",
    "Alerts opened or raised, by rule and severity",
    ["rule", "severity"],
)
ALERTS_ESCALATED = Counter("attain_alerts_escalated_total", "Alerts escalated", ["rule"])


@dataclass(frozen=True)
class Verdict:
    """What a rule found about a goal at an instant; no finding resolves the
    goal's alert of that rule, for `resolution`'s reason."""

    goal: Any  # a goal row (store.goals.Goals.with_progress)
    org_path: tuple[str, ...]
    rule: RuleName
    finding: Finding | None
    as_of: datetime
    resolution: str = "cleared"


@dataclass(frozen=True)
class AlertChange:
    alert_id: str
    goal_id: str
    owner_id: str
    rule: str
    transition: str
    severity: str
    status: str


async def apply_verdicts(
    uow: AlertUnit,
    settings: AlertSettings,
    verdicts: Sequence[Verdict],
    open_alerts: Mapping[str, Mapping[str, Alert]],
) -> list[AlertChange]:
    """Returns the changes of status or severity, not the refreshes of figures."""
    found = [v for v in verdicts if v.finding is not None]
    units = await uow.store.org.units({v.goal.org_unit_id for v in found})
    people = await uow.store.org.people(
        {p for v in found for p in (v.goal.owner_id, v.goal.person_id) if p}
    )
    changes, notices = [], []
    for verdict in verdicts:
        alert = open_alerts.get(verdict.goal.goal_id, {}).get(verdict.rule)
        finding = verdict.finding
        transition = next_transition(
            cast(Severity, alert.severity) if alert else None,
            finding.severity if finding else None,
        )
        if transition is None:
            continue
        if transition is Transition.RESOLVED:
            assert alert is not None
            resolve(uow, alert, verdict.as_of, verdict.resolution)
        else:
            alert = _record(uow, alert, verdict, units, people)
            if transition is not Transition.REFRESHED:
                _history(uow, alert, str(transition), verdict.as_of, details=dict(alert.figures))
            if transition.notifies:
                uow.publish(events.deviation_detected(alert))
                ALERTS_RAISED.labels(alert.rule, alert.severity).inc()
                if not _snoozed(alert, verdict.as_of):
                    notices.append((alert, str(transition)))
        if transition is not Transition.REFRESHED:
            changes.append(_change(alert, str(transition)))
    await notifications.notify(uow, settings, notices)
    return changes


def resolve(uow: AlertUnit, alert: Alert, at: datetime, resolution: str) -> None:
    """Closed with the figures of its last finding, which is what it reported."""
    alert.status, alert.resolved_at, alert.resolution = "resolved", at, resolution
    _history(uow, alert, "resolved", at, note=resolution)
    uow.publish(events.deviation_resolved(alert))


def acknowledge(uow: AlertUnit, alert: Alert, actor: str, note: str | None, at: datetime) -> None:
    """Someone is on it: no escalation. A later rise in severity re-opens it."""
    if alert.status == "resolved":
        raise Clash(f"alert {alert.id} is already resolved")
    alert.status, alert.acknowledged_at, alert.acknowledged_by = "acknowledged", at, actor
    _history(uow, alert, "acknowledged", at, actor=actor, note=note)


def snooze(
    uow: AlertUnit, alert: Alert, actor: str, until: datetime, note: str | None, at: datetime
) -> None:
    """No notifications and no escalation until `until`; the alert stays open and
    still follows its goal."""
    if alert.status == "resolved":
        raise Clash(f"alert {alert.id} is already resolved")
    if until <= at:
        raise FieldError("until", "a snooze ends in the future")
    alert.snoozed_until = until
    _history(
        uow, alert, "snoozed", at, actor=actor, note=note, details={"until": until.isoformat()}
    )


async def escalate_due(
    uow: AlertUnit, settings: AlertSettings, as_of: datetime
) -> list[AlertChange]:
    """Critical alerts open and unacknowledged for the escalation delay go to the
    owner's manager: the nearest manager above the goal's org unit who is not the
    owner (a team goal owned by its manager goes to the manager's manager)."""
    delay = timedelta(seconds=settings.escalation_delay_seconds)
    due = [
        alert
        for alert in await uow.store.alerts.escalations_due(as_of - delay)
        if not _snoozed(alert, as_of)
    ]
    if not due:
        return []
    units = await uow.store.org.units({u for a in due for u in a.org_path})
    changes = []
    for alert in due:
        manager = manager_above(alert.org_path, alert.owner_id, units)
        alert.escalated_at, alert.escalated_to = as_of, manager
        if manager is None:
            _history(uow, alert, "escalation_skipped", as_of, note="no manager above the owner")
            log.warning("alert.escalation.no_manager", alert_id=alert.id, goal_id=alert.goal_id)
            continue
        _history(uow, alert, "escalated", as_of, details={"to": manager})
        uow.publish(events.alert_escalated(alert))
        ALERTS_ESCALATED.labels(alert.rule).inc()
        changes.append(_change(alert, "escalated"))
    await notifications.notify(
        uow, settings, [(a, "escalated") for a in due if a.escalated_to is not None]
    )
    return changes


def manager_above(path: Sequence[str], owner_id: str, units: Mapping[str, OrgUnit]) -> str | None:
    for unit_id in reversed(path):
        unit = units.get(unit_id)
        if unit is not None and unit.manager_id is not None and unit.manager_id != owner_id:
            return unit.manager_id
    return None


def _snoozed(alert: Alert, at: datetime) -> bool:
    return alert.snoozed_until is not None and alert.snoozed_until > at


def _record(
    uow: AlertUnit,
    alert: Alert | None,
    verdict: Verdict,
    units: Mapping[str, OrgUnit],
    people: Mapping[str, Person],
) -> Alert:
    """The open alert with the finding's severity and figures, opened if none is."""
    goal, finding = verdict.goal, verdict.finding
    assert finding is not None
    unit = units.get(goal.org_unit_id)
    person = people.get(goal.person_id) if goal.person_id else None
    label = messages.goal_label(
        goal.metric,
        goal.period_start,
        goal.period_end,
        unit.name if unit else None,
        person.name if person else None,
    )
    day = local_day(verdict.as_of, goal.timezone)
    fields: dict[str, Any] = {
        # The owner follows the goal: a re-assigned goal's alert goes to its new owner.
        "owner_id": goal.owner_id,
        "org_unit_id": goal.org_unit_id,
        "org_path": list(verdict.org_path) or [goal.org_unit_id],
        "severity": finding.severity,
        "as_of": verdict.as_of,
        "actual": finding.actual,
        "expected": finding.expected,
        "target": finding.target,
        "pace": finding.pace,
        "detail": finding.detail,
        "figures": {**finding.figures, "label": label},
        "message": messages.alert_message(
            label, finding.detail, finding.actual, finding.expected, finding.target, day
        ),
    }
    if alert is None:
        alert = Alert(
            id=f"alert_{uuid4().hex[:16]}",
            goal_id=goal.goal_id,
            rule=verdict.rule,
            status="open",
            opened_at=verdict.as_of,
            **fields,
        )
        uow.store.alerts.add(alert)
    else:
        rose = SEVERITY_RANK[finding.severity] > SEVERITY_RANK[cast(Severity, alert.severity)]
        if rose and alert.status == "acknowledged":
            # A worse situation than the one acknowledged: it needs a new look.
            alert.status, alert.acknowledged_at, alert.acknowledged_by = "open", None, None
        for name, value in fields.items():
            setattr(alert, name, value)
    if finding.severity != "critical":
        alert.critical_since = None
    elif alert.critical_since is None:
        alert.critical_since = verdict.as_of
    return alert


def _history(
    uow: AlertUnit,
    alert: Alert,
    kind: str,
    at: datetime,
    *,
    actor: str = SYSTEM,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    uow.store.alerts.add_history(
        AlertHistory(
            alert_id=alert.id,
            at=at,
            kind=kind,
            severity=alert.severity,
            actor=actor,
            note=note,
            details=details or {},
        )
    )


def _change(alert: Alert, transition: str) -> AlertChange:
    log.info(
        "alert.changed",
        alert_id=alert.id,
        goal_id=alert.goal_id,
        rule=alert.rule,
        transition=transition,
        severity=alert.severity,
    )
    return AlertChange(
        alert_id=alert.id,
        goal_id=alert.goal_id,
        owner_id=alert.owner_id,
        rule=alert.rule,
        transition=transition,
        severity=alert.severity,
        status=alert.status,
    )
