"""What the live channel says: which page keys an event changes. Only names of
things travel, never figures; the page re-fetches the figures with its own token."""

from attain_contracts import (
    AlertEscalated,
    BadgeAwarded,
    DeviationDetected,
    DeviationResolved,
    EarningsUpdated,
    Event,
    GoalProgressUpdated,
)

# The events a dashboard page shows, by their CloudEvents type.
LIVE_EVENTS: dict[str, type[Event]] = {
    model.type: model
    for model in (
        GoalProgressUpdated,
        DeviationDetected,
        DeviationResolved,
        AlertEscalated,
        EarningsUpdated,
        BadgeAwarded,
    )
}


def live_key(kind: str, entity_id: str) -> str:
    return f"{kind}:{entity_id}"


def event_name(key: str) -> str:
    """The SSE event name of a key (`goal:g-1` -> `goal-g-1`), what htmx listens for."""
    kind, _, entity_id = key.partition(":")
    return f"{kind}-{entity_id}"


def changed_keys(event: Event) -> set[str]:
    """The page keys whose figures this event may have changed."""
    if isinstance(
        event, GoalProgressUpdated | DeviationDetected | DeviationResolved | AlertEscalated
    ):
        return {live_key("goal", event.goal_id)}
    if isinstance(event, EarningsUpdated | BadgeAwarded):
        return {live_key("person", event.person_id)}
    return set()
