"""The integration events that tell other services about an alert as it now is."""

from alert_service.store.tables import Alert
from attain_contracts import DeviationDetected, DeviationResolved


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
