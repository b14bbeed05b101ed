"""incentive-service tables, all in the `incentive` schema."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric
from sqlmodel import Field, SQLModel

from servicekit.db import instant_column, messaging_tables
from servicekit.migrations import NAMING_CONVENTION

SCHEMA = "incentive"
SQLModel.metadata.naming_convention = NAMING_CONVENTION
MESSAGING = messaging_tables(SQLModel.metadata, SCHEMA)


def _exact(scale: int | None = None) -> Column:
    """Numeric without a scale keeps a value exactly as it was given."""
    return Column(Numeric(20, scale) if scale is not None else Numeric(), nullable=False)


class Plan(SQLModel, table=True):
    """A flat-rate plan; `effective_to` is exclusive, open when None."""

    __tablename__ = "plan"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    name: str
    metric: str = "revenue"
    rate: Decimal = Field(sa_column=_exact())
    currency: str
    effective_from: date
    effective_to: date | None = None
    version: int = 1
    updated_at: datetime = Field(sa_column=instant_column())


class Earning(SQLModel, table=True):
    """One priced ledger row: `entry_id` is the ActualRecorded entry it pays for,
    so a ledger row is paid at most once."""

    __tablename__ = "earning"
    __table_args__ = (
        Index("ix_earning_person_id_period_key", "person_id", "period_key"),
        {"schema": SCHEMA},
    )

    entry_id: str = Field(primary_key=True)
    person_id: str
    deal_id: str
    plan_id: str = Field(foreign_key=f"{SCHEMA}.plan.id")
    credited_on: date
    period_key: str
    base_amount: Decimal = Field(sa_column=_exact())
    rate: Decimal = Field(sa_column=_exact())
    amount: Decimal = Field(sa_column=_exact(scale=2))
    currency: str
    recorded_at: datetime = Field(sa_column=instant_column())
