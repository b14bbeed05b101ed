"""The integration events that tell other services about an alert as it now is."""

from alert_service.store.tables import Alert
from attain_contracts import AlertEscalated, DeviationDetected, DeviationResolved


def deviation_detected(alert: Alert) -> DeviationDetected:
    return DeviationDetected(
        alert_id=alert.id,
        goal_id=alert.goal_id,
        owner_id=alert.owner_id,
        rule=alert.rule,
        severity=alert.severity,
        as_of=alert.as_of,
        actual=alert.actual,
        expected_to_date=alert.expected,
        target=alert.target,
        pace=alert.pace,
        message=alert.message,
    )


def deviation_resolved(alert: Alert) -> DeviationResolved:
    assert alert.resolved_at is not None, "only a resolved alert says it is resolved"
    return DeviationResolved(
        alert_id=alert.id,
        goal_id=alert.goal_id,
        rule=alert.rule,
        resolved_at=alert.resolved_at,
    )


def alert_escalated(alert: Alert) -> AlertEscalated:
    assert alert.escalated_to is not None and alert.escalated_at is not None
    return AlertEscalated(
        alert_id=alert.id,
        goal_id=alert.goal_id,
        severity=alert.severity,
        escalated_to=alert.escalated_to,
        escalated_at=alert.escalated_at,
    )
