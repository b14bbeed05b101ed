"""tracking-service tables, all in the `tracking` schema."""

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import BigInteger, Column, Identity, Index, Numeric, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from servicekit.db import instant_column, messaging_tables
from servicekit.migrations import NAMING_CONVENTION

SCHEMA = "tracking"
SQLModel.metadata.naming_convention = NAMING_CONVENTION
MESSAGING = messaging_tables(SQLModel.metadata, SCHEMA)


def _money(nullable: bool = False) -> Column:
    return Column(Numeric(20, 4), nullable=nullable)


class Source(SQLModel, table=True):
    """A CRM that pushes to us, with the secret its webhooks are signed with."""

    __tablename__ = "source"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    name: str
    secret: str
    created_at: datetime = Field(sa_column=instant_column())


class OrgUnit(SQLModel, table=True):
    """Our copy of goal-service's org tree, from `OrgUnitUpserted`."""

    __tablename__ = "org_unit"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    path: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    version: int


class Membership(SQLModel, table=True):
    """From `PersonUpserted`: which org unit a person belonged to when."""

    __tablename__ = "membership"
    __table_args__ = {"schema": SCHEMA}

    person_id: str = Field(primary_key=True)
    valid_from: date = Field(primary_key=True)
    org_unit_id: str
    valid_to: date | None = None
    person_version: int


class Goal(SQLModel, table=True):
    """Our copy of a goal, from `GoalUpserted`, and the sequence of its progress updates."""

    __tablename__ = "goal"
    __table_args__ = (
        Index("ix_goal_match", "metric", "period_start", "period_end"),
        {"schema": SCHEMA},
    )

    id: str = Field(primary_key=True)
    metric: str
    direction: str
    org_unit_id: str
    person_id: str | None = None
    product_line: str | None = None
    owner_id: str = Field(index=True)
    period_key: str | None = None
    period_start: date
    period_end: date
    target: Decimal = Field(sa_column=_money())
    currency: str | None = None
    status: str
    timezone: str
    version: int
    progress_sequence: int = 0


class Deal(SQLModel, table=True):
    """A deal's latest state as its source last told us."""

    __tablename__ = "deal"
    __table_args__ = {"schema": SCHEMA}

    source_id: str = Field(primary_key=True)
    deal_id: str = Field(primary_key=True)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    stage: str
    amount: Decimal = Field(sa_column=_money())
    currency: str
    owner_id: str
    product_line: str | None = None
    customer_id: str | None = None
    created_on: date | None = None
    closed_on: date | None = None
    received_at: datetime = Field(sa_column=instant_column())
    payload: dict = Field(sa_column=Column(JSONB, nullable=False))


class LedgerEntry(SQLModel, table=True):
    """Append-only: one signed delta of one metric for one person."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_match", "metric", "credited_on"),
        Index("ix_ledger_entry_org_path", "org_path", postgresql_using="gin"),
        {"schema": SCHEMA},
    )

    id: UUID = Field(primary_key=True)
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(), nullable=False, unique=True)
    )
    source_id: str
    deal_id: str
    metric: str
    person_id: str = Field(index=True)
    org_path: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    product_line: str | None = None
    credited_on: date
    amount: Decimal = Field(sa_column=_money())
    currency: str | None = None
    reason: str
    deal_version: int = Field(sa_column=Column(BigInteger, nullable=False))
    recorded_at: datetime = Field(sa_column=instant_column())
