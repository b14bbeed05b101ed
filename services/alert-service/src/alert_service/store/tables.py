"""alert-service tables, all in the `alert` schema.

Our copies of the org tree, people, goals and progress come from other
services' events and keep the newest version only. Figures are unconstrained
`numeric`: the copies keep exactly what was published, and the domain rounds
what it computes."""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, Index, Numeric, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from servicekit.calendarcopy import CalendarColumns
from servicekit.db import instant_column, messaging_tables
from servicekit.migrations import NAMING_CONVENTION
from servicekit.orgcopy import OrgTables, OrgUnitColumns, PersonColumns

SCHEMA = "alert"
SQLModel.metadata.naming_convention = NAMING_CONVENTION
MESSAGING = messaging_tables(SQLModel.metadata, SCHEMA)
SEVERITIES = "('info', 'warning', 'critical')"


def _figure(nullable: bool = False) -> Column:
    return Column(Numeric, nullable=nullable)


def _json(default: str) -> Column:
    return Column(JSONB, nullable=False, server_default=text(f"'{default}'::jsonb"))


class OrgUnit(OrgUnitColumns, table=True):
    __tablename__ = "org_unit"
    __table_args__ = {"schema": SCHEMA}

    name: str
    parent_id: str | None = None
    manager_id: str | None = Field(default=None, index=True)


class Person(PersonColumns, table=True):
    __tablename__ = "person"
    __table_args__ = {"schema": SCHEMA}

    name: str
    email: str | None = None
    # The last day anything was credited to one of their goals: the `silence` rule.
    last_recorded_on: date | None = None


class Goal(SQLModel, table=True):
    __tablename__ = "goal"
    __table_args__ = (
        Index("ix_goal_current", "period_end", "period_start"),
        {"schema": SCHEMA},
    )

    goal_id: str = Field(primary_key=True)
    parent_id: str | None = Field(default=None, index=True)
    metric: str
    direction: str
    org_unit_id: str
    person_id: str | None = Field(default=None, index=True)
    product_line: str | None = None
    owner_id: str
    period_start: date
    period_end: date
    timezone: str
    target: Decimal = Field(sa_column=_figure())
    status: str
    milestones: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json("[]"))
    version: int


class GoalProgress(SQLModel, table=True):
    """The newest `GoalProgressUpdated` of a goal (by `sequence`)."""

    __tablename__ = "goal_progress"
    __table_args__ = {"schema": SCHEMA}

    goal_id: str = Field(primary_key=True)
    numerator: Decimal = Field(sa_column=_figure())
    denominator: Decimal | None = Field(default=None, sa_column=_figure(nullable=True))
    sequence: int = Field(sa_column=Column(BigInteger, nullable=False))
    as_of: datetime = Field(sa_column=instant_column())


class RuleSetting(SQLModel, table=True):
    """Parameters of one rule at one scope: `default` (the whole organisation),
    `metric`, `org_unit` (and its subtree) or `goal`. `scope_id` is '' for `default`."""

    __tablename__ = "rule_setting"
    __table_args__ = (
        Index("uq_rule_setting_scope", "rule", "scope", "scope_id", unique=True),
        CheckConstraint("scope IN ('default', 'metric', 'org_unit', 'goal')", name="scope"),
        {"schema": SCHEMA},
    )

    id: str = Field(primary_key=True)
    rule: str
    scope: str
    scope_id: str
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=_json("{}"))
    updated_by: str | None = None
    updated_at: datetime = Field(sa_column=instant_column())


class Alert(SQLModel, table=True):
    __tablename__ = "alert"
    __table_args__ = (
        # DOMAIN.md §6: an alert is open per (goal, rule) at most once.
        Index(
            "uq_alert_open_goal_rule",
            "goal_id",
            "rule",
            unique=True,
            postgresql_where=text("status <> 'resolved'"),
        ),
        Index("ix_alert_org_path", "org_path", postgresql_using="gin"),
        Index(
            "ix_alert_escalation_due",
            "critical_since",
            postgresql_where=text(
                "status = 'open' AND severity = 'critical' AND escalated_at IS NULL"
            ),
        ),
        CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name="status"),
        CheckConstraint(f"severity IN {SEVERITIES}", name="severity"),
        {"schema": SCHEMA},
    )

    id: str = Field(primary_key=True)
    goal_id: str = Field(index=True)
    owner_id: str = Field(index=True)
    org_unit_id: str
    # The goal's org units, root first: who manages a unit on it sees the alert.
    org_path: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    rule: str
    severity: str
    status: str = Field(index=True)
    opened_at: datetime = Field(sa_column=instant_column())
    critical_since: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    acknowledged_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    acknowledged_by: str | None = None
    snoozed_until: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    escalated_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    escalated_to: str | None = None
    resolved_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    resolution: str | None = None
    as_of: datetime = Field(sa_column=instant_column())
    actual: Decimal = Field(sa_column=_figure())
    expected: Decimal = Field(sa_column=_figure())
    target: Decimal = Field(sa_column=_figure())
    pace: Decimal | None = Field(default=None, sa_column=_figure(nullable=True))
    detail: str
    message: str
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=_json("{}"))


class AlertHistory(SQLModel, table=True):
    """Every step of an alert's life, never updated: opened, raised, lowered,
    acknowledged, snoozed, escalated, resolved."""

    __tablename__ = "alert_history"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    alert_id: str = Field(index=True)
    at: datetime = Field(sa_column=instant_column())
    kind: str
    severity: str
    actor: str
    note: str | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=_json("{}"))


class Subscription(SQLModel, table=True):
    """How a person wants to hear about alerts: alerts of goals they own (`own`),
    or of every goal in the org units they manage (`team`)."""

    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint("scope IN ('own', 'team')", name="scope"),
        CheckConstraint(f"min_severity IN {SEVERITIES}", name="min_severity"),
        {"schema": SCHEMA},
    )

    id: str = Field(primary_key=True)
    person_id: str = Field(index=True)
    channel: str
    target: str
    secret: str | None = None
    min_severity: str
    scope: str
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str
    enabled: bool = True
    created_at: datetime = Field(sa_column=instant_column())


class Delivery(SQLModel, table=True):
    """One notification to one channel, written in the transaction that decided
    it; the delivery worker sends it, retries it and logs every attempt."""

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        {"schema": SCHEMA},
    )

    id: str = Field(primary_key=True)
    alert_id: str = Field(index=True)
    event: str
    person_id: str
    subscription_id: str | None = None
    channel: str
    target: str
    secret: str | None = None
    notification: dict[str, Any] = Field(sa_column=_json("{}"))
    status: str
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=instant_column())
    last_detail: str | None = None
    created_at: datetime = Field(sa_column=instant_column())
    sent_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempt"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    delivery_id: str = Field(index=True)
    at: datetime = Field(sa_column=instant_column())
    ok: bool
    detail: str
    duration_ms: int


ORG = OrgTables(units=OrgUnit, people=Person)


class Calendar(CalendarColumns, table=True):
    """Our copy of the organisation's calendar, from `CalendarUpdated`: one row."""

    __tablename__ = "calendar"
    __table_args__ = {"schema": SCHEMA}
