"""The six deviation rules of DOMAIN.md §6, as pure functions of a goal's facts at
a day: each returns a `Finding` when its condition holds, else None. The registry
at the end is the one list of rules: each rule's name, parameters, evaluation and
title together, so adding a rule adds one `Rule` there (the API's rule names and
the settings' validation read it).

Expected to date, the run-rate projection and working days are those of
`attain_contracts.progress` (DOMAIN.md §4), so an alert explains the same figures
the tracking service publishes. Every comparison is direction-aware: a ratio
above 1 is better, for lower-is-better goals (e.g. `sales_cycle_days`) too.

Rules decide on exact values; the figures a finding carries are rounded to 4
places (half up) and the percentages of its detail to 0.1, so a pace of 0.90004
is not 10% behind even though it is shown as 0.9000.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from alert_service.domain.lifecycle import SEVERITY_RANK
from attain_contracts.progress import (
    MONDAY_TO_FRIDAY,
    PLACES,
    Calendar,
    ChildTarget,
    GoalTerms,
    Milestone,
    expected_to_date,
    formula,
    run_rate_projection,
)
from attain_contracts.types import Severity
from servicekit.inputs import TEXT_MAX_LENGTH

RuleName = str
"""A rule's name: one of `RULES`, which the registry at the end of this module lists."""

ZERO = Decimal(0)
ONE = Decimal(1)
PERCENT_PLACES = Decimal("0.1")
NUMBER_PLACES = Decimal("0.01")

# A share of the period or of the target: 0 included, the whole excluded.
Share = Annotated[Decimal, Field(ge=0, lt=1)]
Count = Annotated[int, Field(ge=1)]


class RuleParams(BaseModel):
    """Unknown keys are refused: a misspelt key would silently leave the default in
    force. Defaults are validated too, so that overriding one field cannot leave
    an inconsistent pair (a threshold of 0.3 against the default critical 0.25)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, str_max_length=TEXT_MAX_LENGTH
    )

    enabled: bool = True


class PaceParams(RuleParams):
    threshold: Annotated[Decimal, Field(gt=0, lt=1)] = Decimal("0.10")
    critical_threshold: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.25")
    grace_share: Share = Decimal("0.15")
    severity: Severity = "warning"
    critical_severity: Severity = "critical"

    @field_validator("critical_threshold")
    @classmethod
    def _critical_beyond_threshold(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        threshold = info.data.get("threshold")
        if threshold is not None and value <= threshold:
            raise PydanticCustomError(
                "critical_not_beyond_threshold",
                "must exceed threshold ({threshold})",
                {"threshold": str(threshold)},
            )
        return value

    @field_validator("critical_severity")
    @classmethod
    def _critical_not_milder(cls, value: Severity, info: ValidationInfo) -> Severity:
        # Falling further behind must never read as less serious.
        severity = info.data.get("severity")
        if severity is not None and SEVERITY_RANK[value] < SEVERITY_RANK[severity]:
            raise PydanticCustomError(
                "critical_severity_milder",
                "must not be milder than severity ({severity})",
                {"severity": severity},
            )
        return value


class ConsecutiveLowParams(RuleParams):
    floor: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.70")
    count: Count = 2
    severity: Severity = "critical"


class RatioFloorParams(RuleParams):
    # None: the goal's own target is the floor.
    floor: Annotated[Decimal, Field(gt=0)] | None = None
    # The least denominator (e.g. deals decided for a win rate) worth judging.
    min_sample: Count = 20
    severity: Severity = "warning"


class ForecastParams(RuleParams):
    tolerance: Share = Decimal("0.10")
    grace_share: Share = Decimal("0.15")
    severity: Severity = "warning"


class SilenceParams(RuleParams):
    working_days: Count = 5
    severity: Severity = "warning"


class AheadParams(RuleParams):
    # No upper bound: a goal can be more than 100% ahead of pace.
    threshold: Annotated[Decimal, Field(gt=0)] = Decimal("0.20")
    grace_share: Share = Decimal("0.15")
    severity: Severity = "info"


class InvalidRuleParams(ValueError):
    """A rule's configuration that cannot be used, naming the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def effective_params(rule: RuleName, layers: Sequence[Mapping[str, Any]]) -> BaseModel:
    """The rule's defaults overridden by each layer in turn, the later winning (the
    engine passes the metric's, then the org units' from root to leaf, then the
    goal's). The merged whole is validated, since a pair of fields set in
    different layers can be inconsistent only together."""
    known = REGISTRY.get(rule)
    if known is None:
        raise InvalidRuleParams("rule", f"unknown rule {rule!r}")
    model = known.params
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    try:
        return model.model_validate(merged)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidRuleParams(
            ".".join(str(part) for part in first["loc"]), first["msg"]
        ) from error


@dataclass(frozen=True)
class GoalFacts:
    """What the rules know of a goal: its terms and its progress so far."""

    goal_id: str
    metric: str
    direction: str
    start: date
    end: date
    target: Decimal
    # Accumulating metrics: the actual; ratios: the numerator.
    numerator: Decimal
    denominator: Decimal | None = None
    milestones: tuple[Milestone, ...] = ()
    children: tuple[ChildTarget, ...] = ()

    @property
    def is_ratio(self) -> bool:
        return formula(self.metric).is_ratio

    @property
    def lower_is_better(self) -> bool:
        return self.direction == "lower_is_better"

    @property
    def terms(self) -> GoalTerms:
        return GoalTerms(
            metric=self.metric,
            direction=self.direction,
            start=self.start,
            end=self.end,
            target=self.target,
            milestones=self.milestones,
            children=self.children,
        )

    @property
    def actual(self) -> Decimal:
        if not self.is_ratio:
            return self.numerator
        if not self.denominator:
            return ZERO
        return self.numerator / self.denominator


@dataclass(frozen=True)
class PeriodResult:
    """One closed child period of a series (e.g. one week of a quarter's goal)."""

    goal_id: str
    start: date
    end: date
    target: Decimal
    actual: Decimal
    direction: str


@dataclass(frozen=True)
class Finding:
    rule: RuleName
    severity: Severity
    actual: Decimal
    expected: Decimal
    target: Decimal
    # The direction-aware ratio that decided it; None for silence.
    pace: Decimal | None
    # A phrase for the message, e.g. "28.3% behind pace".
    detail: str
    # The numbers behind it, as decimal strings, for the explanation.
    figures: dict[str, str]


def pace(
    goal: GoalFacts, day: date, params: PaceParams, calendar: Calendar = MONDAY_TO_FRIDAY
) -> Finding | None:
    """How far the actual is behind what the target should have produced by `day`.

    Fires when the shortfall (1 - pace) reaches the threshold, the threshold
    included: the seed's "偏离目标10%以上" counts 10% itself (以上 includes the
    number). Critical from the critical threshold on, also included. A
    lower-is-better total that has recorded nothing cannot be behind."""
    if not params.enabled:
        return None
    judged = _judged_to_date(goal, day, params.grace_share, calendar)
    if judged is None:
        return None
    share, expected = judged
    ratio = _ratio(goal.actual, expected, goal.lower_is_better)
    if ratio is None:
        return None
    shortfall = ONE - ratio
    if shortfall < params.threshold:
        return None
    critical = shortfall >= params.critical_threshold
    return Finding(
        rule="pace",
        severity=params.critical_severity if critical else params.severity,
        actual=_figure(goal.actual),
        expected=_figure(expected),
        target=_figure(goal.target),
        pace=_figure(ratio),
        detail=f"{_percent(shortfall)}% behind pace",
        figures=_figures(
            elapsed_share=share,
            expected=expected,
            pace=ratio,
            shortfall=shortfall,
            threshold=params.threshold,
            critical_threshold=params.critical_threshold,
        ),
    )


def ahead(
    goal: GoalFacts, day: date, params: AheadParams, calendar: Calendar = MONDAY_TO_FRIDAY
) -> Finding | None:
    """The actual is ahead of pace by the threshold or more (included, as for
    `pace`): the target may be too low, or there is a win to celebrate. A
    lower-is-better total with nothing recorded has no measurable lead (and
    nothing recorded is the `silence` rule's business)."""
    if not params.enabled:
        return None
    judged = _judged_to_date(goal, day, params.grace_share, calendar)
    if judged is None:
        return None
    share, expected = judged
    ratio = _ratio(goal.actual, expected, goal.lower_is_better)
    if ratio is None:
        return None
    lead = ratio - ONE
    if lead < params.threshold:
        return None
    return Finding(
        rule="ahead",
        severity=params.severity,
        actual=_figure(goal.actual),
        expected=_figure(expected),
        target=_figure(goal.target),
        pace=_figure(ratio),
        detail=f"{_percent(lead)}% ahead of pace",
        figures=_figures(
            elapsed_share=share,
            expected=expected,
            pace=ratio,
            lead=lead,
            threshold=params.threshold,
        ),
    )


def forecast(
    goal: GoalFacts, day: date, params: ForecastParams, calendar: Calendar = MONDAY_TO_FRIDAY
) -> Finding | None:
    """At the current run rate, the period ends short of its target: the projected
    attainment is strictly below 1 - tolerance (a goal projected to land exactly
    on the tolerance is within it). The finding says what it projects by when
    ("projected to reach 89.3% of target (268,000 of 300,000) by 2026-06-30");
    its expected figure is what was expected by `day`, as for `pace`."""
    if not params.enabled:
        return None
    judged = _judged_to_date(goal, day, params.grace_share, calendar)
    if judged is None:
        return None
    share, expected = judged
    projection = run_rate_projection(goal.terms, goal.actual, day, calendar)
    attainment = _ratio(projection, goal.target, goal.lower_is_better)
    if attainment is None or attainment >= ONE - params.tolerance:
        return None
    return Finding(
        rule="forecast",
        severity=params.severity,
        actual=_figure(goal.actual),
        expected=_figure(expected),
        target=_figure(goal.target),
        pace=_figure(attainment),
        detail=(
            f"projected to reach {_percent(attainment)}% of target "
            f"({_number(projection)} of {_number(goal.target)}) by {goal.end.isoformat()}"
        ),
        figures=_figures(
            elapsed_share=share,
            projection=projection,
            projected_attainment=attainment,
            tolerance=params.tolerance,
        ),
    )


def ratio_floor(goal: GoalFacts, day: date, params: RatioFloorParams) -> Finding | None:
    """A ratio metric (win rate, conversion, cycle days) is strictly worse than its
    floor: below it when higher is better, above it when lower is better. Under
    the minimum sample the level is noise (2 lost of 3 is not a 33% win rate),
    so the rule keeps quiet."""
    if not params.enabled or not goal.is_ratio or day < goal.start:
        return None
    sample = goal.denominator or ZERO
    if sample < params.min_sample:
        return None
    level = goal.numerator / sample
    floor = goal.target if params.floor is None else params.floor
    if (level <= floor) if goal.lower_is_better else (level >= floor):
        return None
    standing = _ratio(level, floor, goal.lower_is_better)
    return Finding(
        rule="ratio_floor",
        severity=params.severity,
        actual=_figure(level),
        expected=_figure(floor),
        target=_figure(goal.target),
        pace=None if standing is None else _figure(standing),
        detail=_ratio_floor_detail(goal, level, floor, sample),
        figures=_figures(level=level, floor=floor, sample=sample, min_sample=params.min_sample),
    )


def consecutive_low(
    goal: GoalFacts, closed: Sequence[PeriodResult], params: ConsecutiveLowParams
) -> Finding | None:
    """The last `count` closed periods of the series (ordered by end date) all
    completed strictly below the floor ("连续两周完成率低于70%": exactly 70% is not
    below it). Fewer closed periods than `count` prove nothing yet, and one met
    period among the last `count` breaks the run. A period without a target, or
    a lower-is-better period with nothing recorded, counts as met."""
    if not params.enabled or len(closed) < params.count:
        return None
    window = sorted(closed, key=lambda period: period.end)[-params.count :]
    completions = [_completion(period) for period in window]
    low = [c for c in completions if c is not None and c < params.floor]
    if len(low) < params.count:
        return None
    last = window[-1]
    return Finding(
        rule="consecutive_low",
        severity=params.severity,
        actual=_figure(last.actual),
        expected=_figure(last.target),
        target=_figure(goal.target),
        pace=_figure(low[-1]),
        detail=_consecutive_low_detail(window, low, params),
        figures=_figures(
            floor=params.floor,
            count=params.count,
            **{f"completion_{n}": c for n, c in enumerate(low, start=1)},
        ),
    )


def silence(
    goal: GoalFacts,
    day: date,
    last_recorded_on: date | None,
    params: SilenceParams,
    calendar: Calendar = MONDAY_TO_FRIDAY,
) -> Finding | None:
    """Nothing recorded for `working_days` working days or more: counted after the
    last record up to `day` included, or from the goal's start (included) when
    nothing was recorded within the goal's period; weekends and holidays do not
    count, and nothing is counted before the start. For a ratio goal the expected
    figure is the target itself, a ratio having no share to date."""
    if not params.enabled:
        return None
    if last_recorded_on is None or last_recorded_on < goal.start:
        quiet_since = goal.start
    else:
        quiet_since = last_recorded_on + timedelta(days=1)
    silent_days = calendar.working_days(quiet_since, day)
    if silent_days < params.working_days:
        return None
    expected = goal.target if goal.is_ratio else expected_to_date(goal.terms, day, calendar)
    return Finding(
        rule="silence",
        severity=params.severity,
        actual=_figure(goal.actual),
        expected=_figure(expected),
        target=_figure(goal.target),
        pace=None,
        detail=f"nothing recorded for {silent_days} working days",
        figures=_figures(silent_days=silent_days, working_days=params.working_days),
    )


def granularity(start: date, end: date) -> Literal["week", "month"] | None:
    """What a child period is, by its length: up to 7 days a week, up to 31 a month."""
    days = (end - start).days + 1
    if days <= 7:
        return "week"
    if days <= 31:
        return "month"
    return None


def _judged_to_date(
    goal: GoalFacts, day: date, grace_share: Decimal, calendar: Calendar
) -> tuple[Decimal, Decimal] | None:
    """(elapsed share, expected to date) when an accumulating goal can be judged
    against its time: past the grace share of its working days (early figures
    are too noisy: one deal more or less swings the pace; before the start the
    share is 0) and expected to have produced something. A ratio is never
    compared with a share of its target."""
    if goal.is_ratio:
        return None
    done, total = calendar.elapsed(goal.start, goal.end, day)
    share = Decimal(done) / Decimal(total)
    if share <= grace_share:
        return None
    expected = expected_to_date(goal.terms, day, calendar)
    if expected <= 0:
        return None
    return share, expected


def _ratio(value: Decimal, reference: Decimal, lower_is_better: bool) -> Decimal | None:
    """`attain_contracts.progress.better` before its rounding: a decision at an
    inclusive boundary must not flip on the 5th decimal. None where it is
    undefined (a zero reference, or a zero value when lower is better)."""
    if lower_is_better:
        return None if value == 0 else reference / value
    return None if reference == 0 else value / reference


def _completion(period: PeriodResult) -> Decimal | None:
    """How a closed period did against its target; None when it met it outright."""
    if period.target == 0:
        return None
    return _ratio(period.actual, period.target, period.direction == "lower_is_better")


_GRANULARITY_WORDS: dict[str | None, tuple[str, str, str]] = {
    "week": ("weekly ", "week", "weeks"),
    "month": ("monthly ", "month", "months"),
    None: ("", "period", "periods"),
}


def _consecutive_low_detail(
    window: Sequence[PeriodResult], completions: Sequence[Decimal], params: ConsecutiveLowParams
) -> str:
    kinds = {granularity(period.start, period.end) for period in window}
    adjective, one, many = _GRANULARITY_WORDS[kinds.pop() if len(kinds) == 1 else None]
    span = f"in the last {one}" if params.count == 1 else f"for {params.count} consecutive {many}"
    listed = ", ".join(f"{_percent(c)}%" for c in completions)
    return f"{adjective}completion below {_percent(params.floor)}% {span} ({listed})"


# Ratios read as percentages; the others (deal size, cycle days) as plain numbers.
_SHARE_METRICS = frozenset({"win_rate", "lead_conversion"})
# What the denominator counts, for "(40 decided)".
_SAMPLE_NOUNS: dict[tuple[str, ...], str] = {
    ("deals_won", "deals_lost"): "decided",
    ("deals_won",): "deals won",
    ("leads_created",): "leads",
}


def _ratio_floor_detail(goal: GoalFacts, level: Decimal, floor: Decimal, sample: Decimal) -> str:
    if goal.metric in _SHARE_METRICS:
        shown_level, shown_floor = f"{_percent(level)}%", f"{_percent(floor)}%"
    else:
        shown_level, shown_floor = _number(level), _number(floor)
    side, bound = ("above", "ceiling") if goal.lower_is_better else ("below", "floor")
    noun = _SAMPLE_NOUNS.get(formula(goal.metric).denominator, "in the sample")
    label = goal.metric.replace("_", " ")
    return f"{label} {shown_level} {side} the {shown_floor} {bound} ({_number(sample)} {noun})"


def _figure(value: Decimal) -> Decimal:
    return value.quantize(PLACES, rounding=ROUND_HALF_UP)


def _figures(**values: Decimal | int) -> dict[str, str]:
    """Decimals rounded to 4 places; counts as they are."""
    return {
        name: str(value) if isinstance(value, int) else format(_figure(value), "f")
        for name, value in values.items()
    }


def _percent(share: Decimal) -> str:
    return format((share * 100).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP).normalize(), "f")


def _number(value: Decimal) -> str:
    return format(value.quantize(NUMBER_PLACES, rounding=ROUND_HALF_UP).normalize(), ",f")


@dataclass(frozen=True)
class Situation:
    """What a rule is judged on: a goal's facts at a day, with what the series
    rules need (evaluation loads it once for all the rules)."""

    facts: GoalFacts
    day: date
    # The closed periods of the goal's series, oldest first; None when the goal
    # is not split into weeks or months of its own scope.
    closed: Sequence[PeriodResult] | None = None
    # Whether the goal carries its person's `silence` alert, and their last day.
    carries_silence: bool = False
    last_recorded_on: date | None = None
    # The organisation's working days (its calendar as last heard).
    calendar: Calendar = MONDAY_TO_FRIDAY


@dataclass(frozen=True)
class Rule:
    name: str
    params: type[RuleParams]
    # What a notification calls the finding, e.g. "[warning] ...: behind pace".
    title: str
    judge: Callable[[Situation, Any], Finding | None]


def _judge_consecutive_low(at: Situation, params: ConsecutiveLowParams) -> Finding | None:
    return None if at.closed is None else consecutive_low(at.facts, at.closed, params)


def _judge_silence(at: Situation, params: SilenceParams) -> Finding | None:
    if not at.carries_silence:
        return None
    return silence(at.facts, at.day, at.last_recorded_on, params, at.calendar)


REGISTRY: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "pace",
            PaceParams,
            "behind pace",
            lambda at, p: pace(at.facts, at.day, p, at.calendar),
        ),
        Rule(
            "consecutive_low", ConsecutiveLowParams, "low periods in a row", _judge_consecutive_low
        ),
        Rule(
            "ratio_floor",
            RatioFloorParams,
            "below its floor",
            lambda at, p: ratio_floor(at.facts, at.day, p),
        ),
        Rule(
            "forecast",
            ForecastParams,
            "forecast short of target",
            lambda at, p: forecast(at.facts, at.day, p, at.calendar),
        ),
        Rule("silence", SilenceParams, "nothing recorded", _judge_silence),
        Rule(
            "ahead",
            AheadParams,
            "ahead of pace",
            lambda at, p: ahead(at.facts, at.day, p, at.calendar),
        ),
    )
}
RULES: tuple[RuleName, ...] = tuple(REGISTRY)
PARAMS: dict[RuleName, type[RuleParams]] = {name: rule.params for name, rule in REGISTRY.items()}

if TYPE_CHECKING:
    KnownRule = str
else:
    # The names the API accepts, as an enum in its schema.
    KnownRule = Literal[RULES]


def title(rule: str) -> str:
    known = REGISTRY.get(rule)
    return known.title if known is not None else rule
