"""What a manager's "my team" page computes from the figures the services answer
with: the pace band of each cell of the people-by-periods grid, the order of the
at-risk list, the funnel's stage-to-stage conversions, pipeline coverage, the
grid's columns and the wall-board's cycle. Decimal in, Decimal out; no I/O."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from attain_contracts import Period
from attain_contracts.calendar import FiscalCalendar, Grain

PLACES = Decimal("0.0001")


class Band(StrEnum):
    """How a goal is doing against its expected-to-date, worst first."""

    BEHIND = "behind"
    AT_RISK = "at_risk"
    ON_TRACK = "on_track"
    AHEAD = "ahead"
    NOT_STARTED = "not_started"  # nothing is expected yet: no pace to judge


@dataclass(frozen=True)
class PaceBands:
    """The thresholds, as paces (actual over expected to date, below 1 always behind).
    The defaults are alert-service's default `pace` and `ahead` rules (critical at
    ≤ 75 %, warning at ≤ 90 %, info at ≥ 120 %), so a red cell is a critical alert."""

    behind_at_most: Decimal = Decimal("0.75")
    at_risk_at_most: Decimal = Decimal("0.90")
    ahead_from: Decimal = Decimal("1.20")


DEFAULT_BANDS = PaceBands()


def pace_band(pace: Decimal | None, bands: PaceBands = DEFAULT_BANDS) -> Band:
    if pace is None:
        return Band.NOT_STARTED
    if pace <= bands.behind_at_most:
        return Band.BEHIND
    if pace <= bands.at_risk_at_most:
        return Band.AT_RISK
    if pace >= bands.ahead_from:
        return Band.AHEAD
    return Band.ON_TRACK


# alert-service's statuses of an alert still to act on.
UNRESOLVED = ("open", "acknowledged")


def gap(actual: Decimal, expected: Decimal) -> Decimal:
    """How much is missing to be where the goal should be by now (0 when there)."""
    return max(expected - actual, Decimal(0))


def age(opened_at: datetime, now: datetime) -> timedelta:
    """How long an alert has been open; never negative when clocks disagree."""
    return max(now - opened_at, timedelta(0))


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if denominator == 0 else (numerator / denominator).quantize(PLACES)


@dataclass(frozen=True)
class FunnelStage:
    name: str
    count: Decimal
    conversion: Decimal | None  # from the stage before; None for the first or an empty one


@dataclass(frozen=True)
class Funnel:
    stages: tuple[FunnelStage, ...]
    overall: Decimal | None  # won over leads
    average_deal_size: Decimal | None


FUNNEL_STAGES = ("leads_created", "opportunities_created", "deals_won")


def funnel(totals: dict[str, Decimal]) -> Funnel:
    """Leads → opportunities → won from the ledger's totals over a window, each
    stage's conversion from the one before, and revenue over deals won."""
    counts = [totals.get(name, Decimal(0)) for name in FUNNEL_STAGES]
    stages = tuple(
        FunnelStage(name, count, None if i == 0 else ratio(count, counts[i - 1]))
        for i, (name, count) in enumerate(zip(FUNNEL_STAGES, counts, strict=True))
    )
    return Funnel(
        stages=stages,
        overall=ratio(counts[-1], counts[0]),
        average_deal_size=ratio(totals.get("revenue", Decimal(0)), counts[-1]),
    )


@dataclass(frozen=True)
class Figures:
    actual: Decimal
    target: Decimal
    expected: Decimal

    @property
    def pace(self) -> Decimal | None:
        return ratio(self.actual, self.expected)


def roll_up(parts: Iterable[Figures]) -> Figures:
    """A unit without a goal of its own for a period, judged by its people's goals:
    their sums, so a big quota weighs more than a small one (pace is then the sum
    of actuals over the sum of what was expected, not an average of paces)."""
    items = list(parts)
    return Figures(
        actual=sum((f.actual for f in items), Decimal(0)),
        target=sum((f.target for f in items), Decimal(0)),
        expected=sum((f.expected for f in items), Decimal(0)),
    )


def left_to_do(actual: Decimal, target: Decimal) -> Decimal:
    return max(target - actual, Decimal(0))


def coverage(open_pipeline: Decimal, actual: Decimal, target: Decimal) -> Decimal | None:
    """Open pipeline divided by what is left of the target; None once the target is met
    (nothing left to cover)."""
    return ratio(open_pipeline, left_to_do(actual, target))


GRID_GRAINS: tuple[Grain, ...] = ("month", "week")


def grid_columns(calendar: FiscalCalendar, span: Period, grain: Grain) -> list[Period]:
    """The whole `grain` periods that overlap `span`, with their keys: a goal
    exists for a whole week, even one that starts in the quarter before."""
    return [calendar.containing(piece.start, grain) for piece in calendar.periods(span, grain)]


def span_of(calendar: FiscalCalendar, day: date) -> Period:
    """The grid's default span: the fiscal quarter `day` falls in."""
    return calendar.containing(day, "quarter")


@dataclass(frozen=True)
class PanelTiming:
    delay_seconds: int
    cycle_seconds: int


def wall_cycle(panels: Sequence[str], seconds_each: int) -> dict[str, PanelTiming]:
    """When each panel of the wall board shows: one after another, `seconds_each`
    apiece, then again from the first. A CSS animation plays it, so a TV needs no
    script beyond htmx's live updates."""
    if seconds_each <= 0:
        raise ValueError("seconds_each must be positive")
    cycle = seconds_each * len(panels)
    return {name: PanelTiming(i * seconds_each, cycle) for i, name in enumerate(panels)}
