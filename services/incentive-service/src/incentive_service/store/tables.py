"""incentive-service tables, all in the `incentive` schema."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, Identity, Index, Numeric, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from servicekit.calendarcopy import CalendarColumns
from servicekit.db import instant_column, messaging_tables
from servicekit.migrations import NAMING_CONVENTION
from servicekit.orgcopy import MembershipColumns, OrgTables, OrgUnitColumns, PersonColumns

SCHEMA = "incentive"
SQLModel.metadata.naming_convention = NAMING_CONVENTION
MESSAGING = messaging_tables(SQLModel.metadata, SCHEMA)


def _exact(scale: int | None = None, *, nullable: bool = False) -> Column:
    """Numeric without a scale keeps a value exactly as it was given."""
    return Column(Numeric(20, scale) if scale is not None else Numeric(), nullable=nullable)


def _json(*, nullable: bool = False) -> Column:
    return Column(JSONB, nullable=nullable)


# Our copies of goal-service's org tree, people and goals (newest version only).


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
    # As marked in goal-service; None: the default rule (attain_contracts.carries_quota).
    carries_quota: bool | None = None


class Membership(MembershipColumns, table=True):
    """A person's membership of one org unit, `valid_to` exclusive (open when None)."""

    __tablename__ = "membership"
    __table_args__ = (
        Index("ix_membership_org_unit_id", "org_unit_id", "valid_from"),
        {"schema": SCHEMA},
    )

    # Part of the key here: a person may join two units on one day.
    org_unit_id: str = Field(primary_key=True)


ORG = OrgTables(units=OrgUnit, people=Person, memberships=Membership)


class Calendar(CalendarColumns, table=True):
    """Our copy of the organisation's calendar, from `CalendarUpdated`: one row."""

    __tablename__ = "calendar"
    __table_args__ = {"schema": SCHEMA}


class Goal(SQLModel, table=True):
    """Quotas (a person's goal), team goals (an org unit's) and process goals."""

    __tablename__ = "goal"
    __table_args__ = (
        Index("ix_goal_person", "person_id", "metric", "period_start", "period_end"),
        Index("ix_goal_unit", "org_unit_id", "metric", "period_start", "period_end"),
        {"schema": SCHEMA},
    )

    goal_id: str = Field(primary_key=True)
    metric: str
    org_unit_id: str
    person_id: str | None = None
    period_start: date
    period_end: date
    target: Decimal = Field(sa_column=_exact())
    status: str
    version: int


class GoalProgress(SQLModel, table=True):
    """The latest actual of each process goal (leads, opportunities, activities),
    which a scorecard's process part reads."""

    __tablename__ = "goal_progress"
    __table_args__ = {"schema": SCHEMA}

    goal_id: str = Field(primary_key=True)
    actual: Decimal = Field(sa_column=_exact())
    sequence: int


class Credit(SQLModel, table=True):
    """One ActualRecorded ledger row of a priced metric: `entry_id` is the
    tracking ledger's, so a row is counted at most once."""

    __tablename__ = "credit"
    __table_args__ = (
        Index("ix_credit_person", "person_id", "metric", "credited_on"),
        Index("ix_credit_org_path", "org_path", postgresql_using="gin"),
        {"schema": SCHEMA},
    )

    entry_id: str = Field(primary_key=True)
    # The order rows arrived in here: a close notes the last one it priced.
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(), nullable=False, unique=True)
    )
    person_id: str
    deal_id: str
    metric: str
    org_path: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    product_line: str | None = None
    credited_on: date
    amount: Decimal = Field(sa_column=_exact())
    currency: str | None = None
    reason: str
    recorded_at: datetime = Field(sa_column=instant_column())


# Plans


class Plan(SQLModel, table=True):
    """What a plan prices (`metric` over `period_kind`) and who it is for;
    `revision` grows with every change to it or its versions."""

    __tablename__ = "plan"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    name: str
    metric: str
    period_kind: str
    currency: str
    assignments: list[dict[str, Any]] = Field(sa_column=_json())
    revision: int = 1
    updated_at: datetime = Field(sa_column=instant_column())


class PlanVersion(SQLModel, table=True):
    """The terms in force from `effective_from` until the next version's."""

    __tablename__ = "plan_version"
    __table_args__ = {"schema": SCHEMA}

    plan_id: str = Field(primary_key=True, foreign_key=f"{SCHEMA}.plan.id")
    effective_from: date = Field(primary_key=True)
    terms: dict[str, Any] = Field(sa_column=_json())
    revision: int
    updated_at: datetime = Field(sa_column=instant_column())


# Statements


class Statement(SQLModel, table=True):
    """A person's priced period. Lines are stored as priced (each with its source
    and formula) so a closed statement reads exactly as it was paid."""

    __tablename__ = "statement"
    __table_args__ = (
        Index("ix_statement_period_key", "period_key"),
        {"schema": SCHEMA},
    )

    person_id: str = Field(primary_key=True)
    period_key: str = Field(primary_key=True)
    period_start: date
    period_end: date
    plan_id: str | None = None
    plan_effective_from: date | None = None
    status: str = "open"
    currency: str
    quota_goal_id: str | None = None
    quota: Decimal | None = Field(default=None, sa_column=_exact(nullable=True))
    revenue: Decimal = Field(sa_column=_exact())
    attainment: Decimal | None = Field(default=None, sa_column=_exact(nullable=True))
    total: Decimal = Field(sa_column=_exact(scale=2))
    lines: list[dict[str, Any]] = Field(sa_column=_json())
    warnings: list[str] = Field(sa_column=_json())
    digest: str
    version: int
    priced_at: datetime = Field(sa_column=instant_column())
    closed_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))


class Adjustment(SQLModel, table=True):
    """A change to a closed period's statement, carried into a later open one:
    `amount` is `restated - paid` at the time it was found (negative: a clawback)."""

    __tablename__ = "adjustment"
    __table_args__ = (
        Index("ix_adjustment_target", "person_id", "target_period_key"),
        Index("ix_adjustment_source", "person_id", "source_period_key"),
        {"schema": SCHEMA},
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: str
    source_period_key: str
    target_period_key: str
    restated: Decimal = Field(sa_column=_exact(scale=2))
    paid: Decimal = Field(sa_column=_exact(scale=2))
    amount: Decimal = Field(sa_column=_exact(scale=2))
    created_at: datetime = Field(sa_column=instant_column())
    # `restated`, or `outside_window`: a correction recorded after the clawback
    # window ended, carried as a zero line that says so (`window_end`).
    kind: str = Field(
        default="restated", sa_column=Column(Text, nullable=False, server_default="restated")
    )
    # The deals whose corrections this adjustment is the first to count, each
    # `{"deal_id", "amount", "entries": [entry ids]}`.
    deals: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    )
    window_end: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))


class ClosedPeriod(SQLModel, table=True):
    __tablename__ = "closed_period"
    __table_args__ = {"schema": SCHEMA}

    period_key: str = Field(primary_key=True)
    period_kind: str
    period_start: date
    period_end: date
    closed_at: datetime = Field(sa_column=instant_column())
    closed_by: str
    # Every credit up to this one was there when the period closed: later ones
    # are corrections, counted only within the plan's clawback window.
    last_credit_seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class RepriceQueue(SQLModel, table=True):
    """Statements whose inputs changed since they were priced."""

    __tablename__ = "reprice_queue"
    __table_args__ = {"schema": SCHEMA}

    person_id: str = Field(primary_key=True)
    period_key: str = Field(primary_key=True)


# Recognition


class Badge(SQLModel, table=True):
    """`badge_id` is `<badge>:<person>:<period>`, so each is awarded once."""

    __tablename__ = "badge"
    __table_args__ = {"schema": SCHEMA}

    badge_id: str = Field(primary_key=True)
    person_id: str = Field(index=True)
    badge: str
    period_key: str
    reason: str
    awarded_at: datetime = Field(sa_column=instant_column())


class GrowthScore(SQLModel, table=True):
    """The scorecard's growth part, entered by the person's manager."""

    __tablename__ = "growth_score"
    __table_args__ = {"schema": SCHEMA}

    person_id: str = Field(primary_key=True)
    period_key: str = Field(primary_key=True)
    score: Decimal = Field(sa_column=_exact())
    note: str | None = None
    entered_by: str
    entered_at: datetime = Field(sa_column=instant_column())


class ScorecardWeights(SQLModel, table=True):
    """Weights for an org unit's subtree; the nearest unit up the path wins."""

    __tablename__ = "scorecard_weights"
    __table_args__ = {"schema": SCHEMA}

    org_unit_id: str = Field(primary_key=True)
    results: Decimal = Field(sa_column=_exact())
    process: Decimal = Field(sa_column=_exact())
    growth: Decimal = Field(sa_column=_exact())
    updated_at: datetime = Field(sa_column=instant_column())
