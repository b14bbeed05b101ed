"""Topic names, defined once. Every event type names its topic in `events.py`."""

from typing import Final

ORG: Final = "attain.org"
GOALS: Final = "attain.goals"
ACTUALS: Final = "attain.actuals"
PROGRESS: Final = "attain.progress"
ALERTS: Final = "attain.alerts"
INCENTIVES: Final = "attain.incentives"
DEAD_LETTER: Final = "attain.dead-letter"

ALL: Final = (ORG, GOALS, ACTUALS, PROGRESS, ALERTS, INCENTIVES, DEAD_LETTER)
DEFAULT_PARTITIONS: Final = 6
