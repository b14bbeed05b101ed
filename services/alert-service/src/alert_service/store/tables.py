"""alert-service tables, all in the `alert` schema.

Figures are unconstrained `numeric`: the snapshot keeps exactly what
tracking-service published, and the domain rounds what it computes."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Numeric, text
from sqlmodel import Field, SQLModel

from servicekit.db import instant_column, messaging_tables
from servicekit.migrations import NAMING_CONVENTION

SCHEMA = "alert"
SQLModel.metadata.naming_convention = NAMING_CONVENTION
MESSAGING = messaging_tables(SQLModel.metadata, SCHEMA)


def _figure(nullable: bool = False) -> Column:
    return Column(Numeric, nullable=nullable)


class GoalSnapshot(SQLModel, table=True):
    """The latest progress of a goal, from `GoalProgressUpdated`; the rules are
    evaluated against it on every update and on demand."""

    __tablename__ = "goal_snapshot"
    __table_args__ = {"schema": SCHEMA}

    goal_id: str = Field(primary_key=True)
    owner_id: str
    metric: str
    direction: str
    period_start: date
    period_end: date
    target: Decimal = Field(sa_column=_figure())
    actual: Decimal = Field(sa_column=_figure())
    sequence: int = Field(sa_column=Column(BigInteger, nullable=False))
    as_of: datetime = Field(sa_column=instant_column())
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
            postgresql_where=text("status = 'open'"),
        ),
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        CheckConstraint("severity IN ('info', 'warning', 'critical')", name="severity"),
        {"schema": SCHEMA},
    )

    id: str = Field(primary_key=True)
    goal_id: str = Field(index=True)
    owner_id: str = Field(index=True)
    rule: str
    severity: str
    status: str
    opened_at: datetime = Field(sa_column=instant_column())
    resolved_at: datetime | None = Field(default=None, sa_column=instant_column(nullable=True))
    as_of: datetime = Field(sa_column=instant_column())
    actual: Decimal = Field(sa_column=_figure())
    expected: Decimal = Field(sa_column=_figure())
    target: Decimal = Field(sa_column=_figure())
    pace: Decimal | None = Field(default=None, sa_column=_figure(nullable=True))
    message: str
