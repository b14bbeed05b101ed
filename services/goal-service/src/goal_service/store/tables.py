"""goal-service tables, all in the `goal` schema."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

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


class Goal(SQLModel, table=True):
    __tablename__ = "goal"
    __table_args__ = {"schema": SCHEMA}

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
    version: int = 1
    created_by: str
    updated_at: datetime = Field(sa_column=instant_column())
