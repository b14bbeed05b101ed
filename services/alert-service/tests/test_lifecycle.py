import pytest

from alert_service.domain.lifecycle import Transition, next_transition
from attain_contracts.types import Severity

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("open_severity", "found", "transition"),
    [
        (None, None, None),
        (None, "warning", Transition.OPENED),
        (None, "critical", Transition.OPENED),
        ("warning", "critical", Transition.RAISED),
        ("critical", "warning", Transition.LOWERED),
        ("warning", "warning", Transition.REFRESHED),
        ("critical", "critical", Transition.REFRESHED),
        ("warning", None, Transition.RESOLVED),
        ("critical", None, Transition.RESOLVED),
    ],
)
def test_next_transition(
    open_severity: Severity | None, found: Severity | None, transition: Transition | None
) -> None:
    assert next_transition(open_severity, found) is transition


def test_only_opening_and_rising_severity_notify_the_owner() -> None:
    assert {t for t in Transition if t.notifies} == {Transition.OPENED, Transition.RAISED}
