"""The published language between Attain services: envelope, events, topics."""

from attain_contracts import topics
from attain_contracts.envelope import Envelope, UnknownEventType
from attain_contracts.events import (
    EVENT_TYPES,
    ActualRecorded,
    AlertEscalated,
    BadgeAwarded,
    CalendarUpdated,
    DeviationDetected,
    DeviationResolved,
    EarningsUpdated,
    Event,
    GoalArchived,
    GoalProgressUpdated,
    GoalUpserted,
    OrgUnitUpserted,
    PersonUpserted,
    StatementClosed,
    carries_quota,
)
from attain_contracts.types import Membership, Milestone, Money, Period

__all__ = [
    "EVENT_TYPES",
    "ActualRecorded",
    "AlertEscalated",
    "BadgeAwarded",
    "CalendarUpdated",
    "DeviationDetected",
    "DeviationResolved",
    "EarningsUpdated",
    "Envelope",
    "Event",
    "GoalArchived",
    "GoalProgressUpdated",
    "GoalUpserted",
    "Membership",
    "Milestone",
    "Money",
    "OrgUnitUpserted",
    "Period",
    "PersonUpserted",
    "StatementClosed",
    "UnknownEventType",
    "carries_quota",
    "topics",
]
