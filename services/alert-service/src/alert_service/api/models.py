"""Request and response models of alert-service's HTTP API."""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_serializer,
    field_validator,
)

from alert_service.domain.channels import Channel
from alert_service.domain.rules import KnownRule
from attain_contracts.types import (
    CountString,
    DecimalText,
    MoneyString,
    RatioString,
    Severity,
    write_metric,
    write_numerator,
)
from servicekit.inputs import InputModel
from servicekit.paging import Page

Scope = Literal["default", "metric", "org_unit", "goal"]


class Input(InputModel):
    """Every request body of this service."""


class EvaluateRequest(Input):
    as_of: AwareDatetime
    goal_ids: list[str] | None = Field(
        default=None, description="only these goals; every active goal when left out"
    )
    dry_run: bool = Field(
        default=False,
        description="answer what each rule would decide (`decisions`) and change nothing",
    )


class AcknowledgeRequest(Input):
    note: str | None = Field(default=None, max_length=2000)


class SnoozeRequest(Input):
    until: AwareDatetime
    note: str | None = Field(default=None, max_length=2000)


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    goal_id: str
    owner_id: str
    org_unit_id: str
    org_path: list[str]
    rule: str
    severity: str
    status: str
    opened_at: datetime
    critical_since: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    snoozed_until: datetime | None
    escalated_at: datetime | None
    escalated_to: str | None
    resolved_at: datetime | None
    resolution: str | None
    as_of: datetime
    # Fixed-point: asyncpg reads an unscaled numeric 100000 as Decimal('1.0E+5').
    # The alert does not name the goal's metric: its figures are written as money
    # is when its currency is not known.
    actual: MoneyString
    expected: MoneyString
    target: MoneyString
    pace: RatioString | None
    detail: str
    message: str
    figures: dict[str, Any]


class HistoryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    kind: str
    severity: str
    actor: str
    note: str | None
    details: dict[str, Any]


class AttemptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    ok: bool
    detail: str | None = Field(
        description="what the channel answered; only for the recipient and admins"
    )
    duration_ms: int


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    alert_id: str
    event: str
    person_id: str
    subscription_id: str | None
    channel: str
    target: str | None = Field(
        description="the address or bot URL (a credential); only for the recipient and admins"
    )
    status: str
    attempts: int
    next_attempt_at: datetime
    last_detail: str | None = Field(description="only for the recipient and admins")
    created_at: datetime
    sent_at: datetime | None
    log: list[AttemptPublic] = []


class AlertDetailPublic(AlertPublic):
    history: list[HistoryPublic]
    deliveries: list[DeliveryPublic]


class AlertsPublic(Page[AlertPublic]):
    """Paged by `limit` and `after`."""


class AlertChangePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    alert_id: str
    goal_id: str
    owner_id: str
    rule: str
    transition: str
    severity: str
    status: str


class DecisionPublic(BaseModel):
    """What one rule decided about one goal, with the figures it used when it fired."""

    goal_id: str
    rule: str
    verdict: Literal["fires", "clear", "off", "not_live"] = Field(
        description="off: disabled or misconfigured; not_live: the goal is not evaluated"
    )
    transition: str | None = Field(
        description="what it would do to the goal's alert of the rule: opened, raised, "
        "lowered, refreshed or resolved; none when nothing"
    )
    resolution: str | None = None
    severity: Severity | None = None
    detail: str | None = None
    actual: MoneyString | None = None
    expected: MoneyString | None = None
    target: MoneyString | None = None
    pace: RatioString | None = None
    figures: dict[str, str] = {}


class EvaluationPublic(BaseModel):
    as_of: datetime
    evaluated: int
    dry_run: bool = False
    data: list[AlertChangePublic] = Field(description="the alerts changed (none on a dry run)")
    count: int
    decisions: list[DecisionPublic] = Field(
        default=[], description="a dry run's decisions: each rule of each goal evaluated"
    )


class GoalCopyPublic(BaseModel):
    """alert-service's copy of a goal and of the newest progress it applied."""

    goal_id: str
    parent_id: str | None
    metric: str
    direction: str
    org_unit_id: str
    person_id: str | None
    owner_id: str
    period_start: date
    period_end: date
    timezone: str
    status: str
    version: int = Field(description="of the last goal event applied")
    day: date = Field(description="the goal's day at `as_of`, which `expected` is for")
    target: Decimal
    actual: Decimal
    expected: Decimal = Field(description="expected to date at `day`")
    numerator: Decimal | None
    denominator: CountString | None
    progress_as_of: datetime | None = Field(
        description="the instant of the last progress event applied; none before the first"
    )
    progress_sequence: int | None

    @field_serializer("target", "actual", "expected", when_used="json")
    def _write_figure(self, value: Decimal) -> DecimalText | None:
        return write_metric(value, self.metric)

    @field_serializer("numerator", when_used="json")
    def _write_numerator(self, value: Decimal | None) -> DecimalText | None:
        return write_numerator(value, self.metric)


class RuleSettingCreate(Input):
    rule: KnownRule
    scope: Scope
    scope_id: str | None = Field(
        default=None, description="metric key, org unit id or goal id; none for `default`"
    )
    parameters: dict[str, Any]


class RuleSettingUpdate(Input):
    parameters: dict[str, Any]


class RuleSettingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    rule: str
    scope: str
    scope_id: str
    parameters: dict[str, Any]
    updated_by: str | None
    updated_at: datetime


class RuleSettingsPublic(Page[RuleSettingPublic]):
    """Paged by `limit` and `after`."""


class LayerPublic(BaseModel):
    scope: str
    scope_id: str
    parameters: dict[str, Any]


class EffectiveRulePublic(BaseModel):
    rule: str
    parameters: dict[str, Any] | None
    layers: list[LayerPublic]
    problem: str | None = None


class EffectiveRulesPublic(BaseModel):
    goal_id: str
    data: list[EffectiveRulePublic]


def _zone(value: str | None) -> str | None:
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
    return value


def _wall_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give the time of day without an offset: it is read in `timezone`")
    return value


# Quiet hours are a time of day on the subscriber's wall clock, in `timezone`: an offset would
# be wrong half the year wherever clocks change, so none is taken and none is answered.
WallClock = Annotated[
    time,
    AfterValidator(_wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
            "description": "time of day in `timezone`, without an offset, e.g. 22:00:00",
        }
    ),
]


class SubscriptionFields(Input):
    min_severity: Severity = "warning"
    scope: Literal["own", "team"] = Field(
        default="own", description="own: alerts of my goals; team: of every goal in units I manage"
    )
    quiet_start: WallClock | None = None
    quiet_end: WallClock | None = None
    timezone: str | None = Field(default=None, description="of the quiet hours; the org's if unset")
    enabled: bool = True

    _valid_zone = field_validator("timezone")(_zone)


class SubscriptionCreate(SubscriptionFields):
    person_id: str | None = Field(default=None, description="admins only; yourself if unset")
    channel: Channel
    target: str = Field(min_length=3, max_length=2000, description="URL, or e-mail address")
    secret: str | None = Field(
        default=None,
        max_length=500,
        description="DingTalk or Feishu signing secret; generated for webhooks",
    )


class SubscriptionUpdate(Input):
    target: str | None = Field(default=None, min_length=3, max_length=2000)
    min_severity: Severity | None = None
    scope: Literal["own", "team"] | None = None
    quiet_start: WallClock | None = None
    quiet_end: WallClock | None = None
    timezone: str | None = None
    enabled: bool | None = None

    _valid_zone = field_validator("timezone")(_zone)


class SubscriptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    person_id: str
    channel: str
    target: str
    min_severity: str
    scope: str
    quiet_start: WallClock | None
    quiet_end: WallClock | None
    timezone: str
    enabled: bool
    created_at: datetime


class SubscriptionCreated(SubscriptionPublic):
    secret: str | None = Field(
        description="for a webhook: verify our signatures with it; shown only now"
    )


class SubscriptionsPublic(Page[SubscriptionPublic]):
    """Paged by `limit` and `after`."""
