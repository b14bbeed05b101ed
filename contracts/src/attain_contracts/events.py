"""Version 1 of every integration event: small immutable records named in the
past tense. Each names its CloudEvents `type`, its topic and its partition key;
fields only grow within a version (see tests/test_compatibility.py)."""

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, field_serializer

from attain_contracts import topics
from attain_contracts.types import (
    ContractModel,
    CountString,
    CurrencyCode,
    DecimalString,
    DecimalText,
    Direction,
    Membership,
    Milestone,
    Money,
    MoneyString,
    Period,
    RatioString,
    Severity,
    metric_kind,
    write_figure,
    write_metric,
    write_numerator,
)


class Event(ContractModel):
    type: ClassVar[str]
    topic: ClassVar[str]
    aggregate_type: ClassVar[str]

    def key(self) -> str:
        """The partition key: events with the same key keep their order."""
        raise NotImplementedError


# --- goal-service ----------------------------------------------------------------


class OrgUnitUpserted(Event):
    type: ClassVar[str] = "attain.goal.OrgUnitUpserted.v1"
    topic: ClassVar[str] = topics.ORG
    aggregate_type: ClassVar[str] = "org_unit"

    org_unit_id: str
    name: str
    kind: str = Field(description="company, division, region, team or any other level")
    parent_id: str | None
    manager_id: str | None
    path: list[str] = Field(description="org unit ids from the root down to this unit")
    version: int
    updated_at: AwareDatetime

    def key(self) -> str:
        return self.org_unit_id


class PersonUpserted(Event):
    type: ClassVar[str] = "attain.goal.PersonUpserted.v1"
    topic: ClassVar[str] = topics.ORG
    aggregate_type: ClassVar[str] = "person"

    person_id: str
    name: str
    email: str | None = None
    maturity: Literal["new", "experienced"]
    memberships: list[Membership] = Field(description="history of org unit memberships")
    crm_ids: dict[str, str] = Field(
        default_factory=dict,
        description="the person's owner id in each CRM source, by source id: a record "
        "that source sends with that owner credits this person",
    )
    version: int
    updated_at: AwareDatetime
    carries_quota: bool | None = Field(
        default=None,
        description=(
            "whether the person carries a quota (counts in a capacity split and shares a"
            " team bonus); when absent, everyone does except a manager who belongs to the"
            " unit they manage (see carries_quota())"
        ),
    )

    def key(self) -> str:
        return self.person_id


def carries_quota(marked: bool | None, *, manages_own_unit: bool) -> bool:
    """Whether a person carries a quota: as marked (`PersonUpserted.carries_quota`),
    else unless they manage the org unit they belong to. One rule for goal-service's
    capacity split and incentive-service's team bonus."""
    return marked if marked is not None else not manages_own_unit


class CalendarUpdated(Event):
    """The organisation's calendar as it now stands: every service counts working
    days (expected to date, pace, silence, time splits) on it."""

    type: ClassVar[str] = "attain.goal.CalendarUpdated.v1"
    topic: ClassVar[str] = topics.ORG
    aggregate_type: ClassVar[str] = "calendar"

    timezone: str = Field(description="IANA time zone of the organisation")
    fiscal_year_start_month: int = Field(description="1 to 12: the month fiscal years start")
    holidays: list[date] = Field(description="days off that would be working days")
    working_weekends: list[date] = Field(
        default=[],
        description="Saturdays and Sundays worked in exchange for a holiday (China's 调休)",
    )
    version: int
    updated_at: AwareDatetime

    def key(self) -> str:
        return "calendar"


class GoalUpserted(Event):
    type: ClassVar[str] = "attain.goal.GoalUpserted.v1"
    topic: ClassVar[str] = topics.GOALS
    aggregate_type: ClassVar[str] = "goal"

    goal_id: str
    parent_id: str | None
    metric: str
    direction: Direction
    org_unit_id: str
    person_id: str | None = Field(
        default=None, description="set for a person's own target: only their credits count"
    )
    product_line: str | None = None
    owner_id: str
    period: Period
    timezone: str = Field(description="IANA time zone of the organisation's calendar")
    target: DecimalString
    currency: CurrencyCode | None = Field(description="set when the target is money")
    status: Literal["draft", "active", "closed", "cancelled"]
    method: str = Field(description="how the target was produced, e.g. manual, weights")
    milestones: list[Milestone] = []
    version: int
    updated_at: AwareDatetime

    @field_serializer("target", when_used="json")
    def _write_target(self, target: Decimal) -> DecimalText:
        return write_figure(target, metric_kind(self.metric), self.currency)

    def key(self) -> str:
        return self.goal_id


class GoalArchived(Event):
    type: ClassVar[str] = "attain.goal.GoalArchived.v1"
    topic: ClassVar[str] = topics.GOALS
    aggregate_type: ClassVar[str] = "goal"

    goal_id: str
    status: Literal["closed", "cancelled"]
    reason: str | None = None
    version: int
    archived_at: AwareDatetime

    def key(self) -> str:
        return self.goal_id


# --- tracking-service ------------------------------------------------------------


class ActualRecorded(Event):
    """One append-only ledger row: a signed delta of one metric for one person."""

    type: ClassVar[str] = "attain.tracking.ActualRecorded.v1"
    topic: ClassVar[str] = topics.ACTUALS
    aggregate_type: ClassVar[str] = "deal"

    entry_id: str
    deal_id: str = Field(description="the id of the CRM record credited (see record_kind)")
    record_kind: Literal["deal", "payment", "lead", "activity"] = "deal"
    source: str
    metric: str
    person_id: str
    org_path: list[str] = Field(description="org units credited, root first, on the credit date")
    product_line: str | None = None
    credited_on: date
    amount: DecimalString = Field(description="signed delta; money in the base currency")
    currency: CurrencyCode | None = None
    reason: str = Field(description="won, amount_changed, owner_changed, reversed, repathed, ...")
    deal_version: int
    recorded_at: AwareDatetime
    record_id: str | None = Field(
        default=None,
        description="the id of the CRM record credited, of any kind (the same as deal_id, "
        "which stays for older readers); absent in events written before it was added",
    )
    record_version: int | None = Field(
        default=None,
        description="the version of the record credited (the same as deal_version); absent "
        "in events written before it was added",
    )

    @field_serializer("amount", when_used="json")
    def _write_amount(self, amount: Decimal) -> DecimalText:
        return write_figure(amount, metric_kind(self.metric), self.currency)

    def key(self) -> str:
        return self.deal_id


class GoalProgressUpdated(Event):
    type: ClassVar[str] = "attain.tracking.GoalProgressUpdated.v1"
    topic: ClassVar[str] = topics.PROGRESS
    aggregate_type: ClassVar[str] = "goal"

    goal_id: str
    owner_id: str
    metric: str
    direction: Direction
    period: Period
    as_of: AwareDatetime
    actual: DecimalString
    target: DecimalString
    attainment: RatioString | None = Field(
        description="actual / target (target / actual when lower is better)"
    )
    expected_to_date: DecimalString
    pace: RatioString | None = Field(
        description="actual / expected to date (expected / actual when lower is better): "
        "below 1 is behind"
    )
    projection: DecimalString = Field(description="at period end: actual + run rate x time left")
    sequence: int = Field(description="grows with every update of this goal; drop older ones")
    parent_id: str | None = None
    org_unit_id: str | None = None
    person_id: str | None = None
    status: Literal["draft", "active", "closed", "cancelled"] | None = None
    timezone: str | None = Field(default=None, description="IANA zone of the goal's calendar")
    numerator: DecimalString | None = Field(
        default=None, description="for ratio and average metrics: what actual divides"
    )
    denominator: CountString | None = Field(
        default=None, description="for ratio and average metrics: the sample size"
    )
    pipeline_projection: DecimalString | None = Field(
        default=None,
        description="projection plus open deals closing in the period x the historical win rate",
    )

    @field_serializer(
        "actual",
        "target",
        "expected_to_date",
        "projection",
        "pipeline_projection",
        when_used="json",
    )
    def _write_figure(self, value: Decimal | None) -> DecimalText | None:
        return write_metric(value, self.metric)

    @field_serializer("numerator", when_used="json")
    def _write_numerator(self, value: Decimal | None) -> DecimalText | None:
        return write_numerator(value, self.metric)

    def key(self) -> str:
        return self.goal_id


# --- alert-service ---------------------------------------------------------------


class DeviationDetected(Event):
    type: ClassVar[str] = "attain.alert.DeviationDetected.v1"
    topic: ClassVar[str] = topics.ALERTS
    aggregate_type: ClassVar[str] = "alert"

    alert_id: str
    goal_id: str
    owner_id: str
    rule: str
    severity: Severity
    as_of: AwareDatetime
    # The goal's metric is not in the event: its figures are written as money is
    # when its currency is not known.
    actual: MoneyString
    expected_to_date: MoneyString
    target: MoneyString
    pace: RatioString | None
    message: str

    def key(self) -> str:
        return self.goal_id


class DeviationResolved(Event):
    type: ClassVar[str] = "attain.alert.DeviationResolved.v1"
    topic: ClassVar[str] = topics.ALERTS
    aggregate_type: ClassVar[str] = "alert"

    alert_id: str
    goal_id: str
    rule: str
    resolved_at: AwareDatetime

    def key(self) -> str:
        return self.goal_id


class AlertEscalated(Event):
    type: ClassVar[str] = "attain.alert.AlertEscalated.v1"
    topic: ClassVar[str] = topics.ALERTS
    aggregate_type: ClassVar[str] = "alert"

    alert_id: str
    goal_id: str
    severity: Severity
    escalated_to: str = Field(description="person id of the owner's manager")
    escalated_at: AwareDatetime

    def key(self) -> str:
        return self.goal_id


# --- incentive-service -----------------------------------------------------------


class EarningsUpdated(Event):
    type: ClassVar[str] = "attain.incentive.EarningsUpdated.v1"
    topic: ClassVar[str] = topics.INCENTIVES
    aggregate_type: ClassVar[str] = "statement"

    statement_id: str
    person_id: str
    period_key: str
    total: Money
    version: int
    updated_at: AwareDatetime

    def key(self) -> str:
        return self.person_id


class StatementClosed(Event):
    type: ClassVar[str] = "attain.incentive.StatementClosed.v1"
    topic: ClassVar[str] = topics.INCENTIVES
    aggregate_type: ClassVar[str] = "statement"

    statement_id: str
    person_id: str
    period_key: str
    total: Money
    closed_at: AwareDatetime

    def key(self) -> str:
        return self.person_id


class BadgeAwarded(Event):
    type: ClassVar[str] = "attain.incentive.BadgeAwarded.v1"
    topic: ClassVar[str] = topics.INCENTIVES
    aggregate_type: ClassVar[str] = "badge"

    badge_id: str
    person_id: str
    badge: str = Field(description="quarterly_champion, club_100, streak, ...")
    period_key: str
    awarded_at: AwareDatetime

    def key(self) -> str:
        return self.person_id


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        OrgUnitUpserted,
        PersonUpserted,
        CalendarUpdated,
        GoalUpserted,
        GoalArchived,
        ActualRecorded,
        GoalProgressUpdated,
        DeviationDetected,
        DeviationResolved,
        AlertEscalated,
        EarningsUpdated,
        StatementClosed,
        BadgeAwarded,
    )
}
