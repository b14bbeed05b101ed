"""An alert's lifecycle (DOMAIN.md §6): at most one open alert per (goal, rule);
it re-notifies only when its severity rises and resolves by itself when the
condition clears."""

from enum import StrEnum
from typing import Literal

from attain_contracts.types import Severity

SEVERITY_RANK: dict[Severity, int] = {"info": 0, "warning": 1, "critical": 2}

# How a list of alerts is sorted: the latest opened first, or the at-risk list (the
# largest shortfall of pace first, then the more severe, then the one open longest).
Order = Literal["newest", "at_risk"]


class Transition(StrEnum):
    OPENED = "opened"
    RAISED = "raised"
    LOWERED = "lowered"
    REFRESHED = "refreshed"  # same severity: only the figures are brought up to date
    RESOLVED = "resolved"

    @property
    def notifies(self) -> bool:
        return self in (Transition.OPENED, Transition.RAISED)


def next_transition(open_severity: Severity | None, found: Severity | None) -> Transition | None:
    """What happens to the (goal, rule) alert given the severity of the one open
    now (None: none is open) and of what the rule found (None: condition clear)."""
    if open_severity is None:
        return None if found is None else Transition.OPENED
    if found is None:
        return Transition.RESOLVED
    if SEVERITY_RANK[found] > SEVERITY_RANK[open_severity]:
        return Transition.RAISED
    if SEVERITY_RANK[found] < SEVERITY_RANK[open_severity]:
        return Transition.LOWERED
    return Transition.REFRESHED
