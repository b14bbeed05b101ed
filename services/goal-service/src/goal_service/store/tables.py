"""goal-service tables, all in the `goal` schema."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, Index, Integer, Numeric, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from goal_service.domain.smart import GROWTH_CEILING
from servicekit.db import instant_column, messaging_tables
from servicekit.migrations import NAMING_CONVENTION

SCHEMA = "goal"
SQLModel.metadata.naming_convention = NAMING_CONVENTION
MESSAGING = messaging_tables(SQLModel.metadata, SCHEMA)


class OrgUnit(SQLModel, table=True):
    __tablename__ = "org_unit"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    name: str
    kind: str
    parent_id: str | None = Field(default=None, foreign_key=f"{SCHEMA}.org_unit.id")
    manager_id: str | None = None
    path: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    version: int = 1
    updated_at: datetime = Field(sa_column=instant_column())


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    name: str
    email: str | None = None
    maturity: str = "experienced"
    hired_on: date | None = None  # when the ramp starts; else the first membership
    # Marked as carrying a quota or not; None: the default rule (attain_contracts.carries_quota).
    carries_quota: bool | None = None
    # The person's owner id in each CRM source, by source id (tracking-service credits
    # a record of that source with that owner to this person).
    crm_ids: dict[str, str] = Field(
        default_factory=dict,
        sa_column=Column(JSONB, nullable=False, server_default="{}"),
    )
    version: int = 1
    updated_at: datetime = Field(sa_column=instant_column())


class Membership(SQLModel, table=True):
    """A person's membership of an org unit; `valid_to` is exclusive, open when None."""

    __tablename__ = "membership"
    __table_args__ = {"schema": SCHEMA}

    person_id: str = Field(primary_key=True, foreign_key=f"{SCHEMA}.person.id")
    valid_from: date = Field(primary_key=True)
    org_unit_id: str = Field(foreign_key=f"{SCHEMA}.org_unit.id")
    valid_to: date | None = None


class ProductLine(SQLModel, table=True):
    __tablename__ = "product_line"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    name: str
    maturity: str = "mature"
    version: int = 1
    updated_at: datetime = Field(sa_column=instant_column())


class CalendarSettings(SQLModel, table=True):
    """The organisation's calendar and planning limits: one row, id 1."""

    __tablename__ = "calendar_settings"
    __table_args__ = {"schema": SCHEMA}

    id: int = Field(default=1, primary_key=True)
    timezone: str = "UTC"
    fiscal_year_start_month: int = 1
    holidays: list[date] = Field(
        default_factory=list, sa_column=Column(ARRAY(Date), nullable=False)
    )
    working_weekends: list[date] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Date), nullable=False, server_default="{}"),
    )
    growth_ceiling: Decimal = Field(
        default=GROWTH_CEILING, sa_column=Column(Numeric(10, 4), nullable=False)
    )
    version: int = 1
    updated_at: datetime = Field(sa_column=instant_column())


class Goal(SQLModel, table=True):
    __tablename__ = "goal"
    __table_args__ = (
        Index("ix_goal_parent_id", "parent_id"),
        {"schema": SCHEMA},
    )

    id: str = Field(primary_key=True)
    parent_id: str | None = Field(default=None, foreign_key=f"{SCHEMA}.goal.id")
    metric: str
    direction: str
    org_unit_id: str = Field(foreign_key=f"{SCHEMA}.org_unit.id", index=True)
    person_id: str | None = Field(default=None, foreign_key=f"{SCHEMA}.person.id")
    product_line: str | None = None
    owner_id: str = Field(foreign_key=f"{SCHEMA}.person.id", index=True)
    period_key: str | None = None
    period_start: date
    period_end: date
    target: Decimal = Field(sa_column=Column(Numeric(20, 4), nullable=False))
    currency: str | None = None
    status: str
    method: str
    rationale: str | None = None
    unit: Decimal = Field(default=Decimal(1), sa_column=Column(Numeric(20, 4), nullable=False))
    milestones: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    contributors: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(Text), nullable=False)
    )
    budget: Decimal | None = Field(default=None, sa_column=Column(Numeric(20, 4)))
    headcount: int | None = Field(default=None, sa_column=Column(Integer))
    derived_from_id: str | None = Field(default=None, foreign_key=f"{SCHEMA}.goal.id")
    plan_id: str | None = None
    # The stretch the split that made this goal applied to its parent's target
    # (None: none); the SMART check adds the children up to target x stretch.
    split_stretch: Decimal | None = Field(default=None, sa_column=Column(Numeric))
    version: int = 1
    created_by: str
    updated_at: datetime = Field(sa_column=instant_column())


class GoalVersion(SQLModel, table=True):
    """One row per version of a goal: nothing about a target is ever overwritten."""

    __tablename__ = "goal_version"
    __table_args__ = {"schema": SCHEMA}

    goal_id: str = Field(primary_key=True, foreign_key=f"{SCHEMA}.goal.id")
    version: int = Field(primary_key=True)
    target: Decimal = Field(sa_column=Column(Numeric(20, 4), nullable=False))
    previous_target: Decimal | None = Field(default=None, sa_column=Column(Numeric(20, 4)))
    status: str
    owner_id: str
    changed_by: str
    changed_at: datetime = Field(sa_column=instant_column())
    reason: str | None = None
    plan_id: str | None = None
    fields: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default="{}"),
        description="what this version changed; `created` for the first",
    )


class Proposal(SQLModel, table=True):
    """A child owner's bottom-up proposal for their share of a parent goal."""

    __tablename__ = "proposal"
    __table_args__ = {"schema": SCHEMA}

    goal_id: str = Field(primary_key=True, foreign_key=f"{SCHEMA}.goal.id")
    scope: str = Field(primary_key=True, description="the child org unit or person id")
    value: Decimal = Field(sa_column=Column(Numeric(20, 4), nullable=False))
    note: str | None = None
    submitted_by: str
    submitted_at: datetime = Field(sa_column=instant_column())


class Plan(SQLModel, table=True):
    """A computed change to a goal tree: applied at once, or proposed (a re-plan)
    until a planner accepts or rejects it. `changes` is exactly what was shown."""

    __tablename__ = "plan"
    __table_args__ = (
        Index("ix_plan_goal_id_status", "goal_id", "status"),
        {"schema": SCHEMA},
    )

    id: str = Field(primary_key=True)
    goal_id: str = Field(foreign_key=f"{SCHEMA}.goal.id")
    kind: str
    status: str
    request: dict[str, object] = Field(sa_column=Column(JSONB, nullable=False))
    changes: list[dict[str, object]] = Field(sa_column=Column(JSONB, nullable=False))
    summary: dict[str, object] = Field(sa_column=Column(JSONB, nullable=False))
    trigger: str | None = None
    created_by: str
    created_at: datetime = Field(sa_column=instant_column())
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
