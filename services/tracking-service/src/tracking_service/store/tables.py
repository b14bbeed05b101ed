"""tracking-service tables, all in the `tracking` schema."""

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import BigInteger, Column, Identity, Index, Numeric, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from servicekit.calendarcopy import CalendarColumns
from servicekit.db import instant_column, messaging_tables
from servicekit.migrations import NAMING_CONVENTION
from servicekit.orgcopy import MembershipColumns, OrgTables, OrgUnitColumns

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
    kind: str = Field(default="generic", description="generic, hubspot or salesforce")
    secret: str
    organization_id: str | None = Field(default=None, description="Salesforce: the org's id")
    mapping: dict | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    created_at: datetime = Field(sa_column=instant_column())


class WebhookDelivery(SQLModel, table=True):
    """A signed webhook message whose record was committed, by its `webhook-id`
    (Standard Webhooks' idempotency key), with what it was answered: a message
    delivered again is answered as a duplicate, not applied again."""

    __tablename__ = "webhook_delivery"
    __table_args__ = {"schema": SCHEMA}

    source_id: str = Field(primary_key=True)
    webhook_id: str = Field(primary_key=True)
    kind: str
    record_id: str
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    received_at: datetime = Field(sa_column=instant_column())


class OrgUnit(OrgUnitColumns, table=True):
    """Our copy of goal-service's org tree, from `OrgUnitUpserted`."""

    __tablename__ = "org_unit"
    __table_args__ = {"schema": SCHEMA}


class Membership(MembershipColumns, table=True):
    """From `PersonUpserted`: which org unit a person belonged to when, and the
    version of the person it came with (there is no person table here)."""

    __tablename__ = "membership"
    __table_args__ = {"schema": SCHEMA}

    person_version: int


class PersonAlias(SQLModel, table=True):
    """From `PersonUpserted`: a name a CRM source gives a person, their owner id there
    (`source_id` the source's), or their e-mail, lower-cased, in any source (`source_id`
    empty). A record's owner is the person it names; else its owner id as sent."""

    __tablename__ = "person_alias"
    __table_args__ = {"schema": SCHEMA}

    source_id: str = Field(primary_key=True)
    alias: str = Field(primary_key=True)
    person_id: str = Field(index=True)


ORG = OrgTables(units=OrgUnit, memberships=Membership)


class Calendar(CalendarColumns, table=True):
    """Our copy of the organisation's calendar, from `CalendarUpdated`: one row."""

    __tablename__ = "calendar"
    __table_args__ = {"schema": SCHEMA}


class Goal(SQLModel, table=True):
    """Our copy of a goal, from `GoalUpserted`, with its live progress: the ledger's
    numerator and denominator folded in by the projector."""

    __tablename__ = "goal"
    __table_args__ = (
        Index("ix_goal_match", "metric", "period_start", "period_end"),
        Index("ix_goal_person_match", "metric", "person_id", "period_start"),
        Index("ix_goal_unit_match", "metric", "org_unit_id", "period_start"),
        {"schema": SCHEMA},
    )

    id: str = Field(primary_key=True)
    parent_id: str | None = Field(default=None, index=True)
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
    milestones: list = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    version: int
    numerator: Decimal = Field(default=Decimal(0), sa_column=_money())
    denominator: Decimal = Field(default=Decimal(0), sa_column=_money())
    progress_sequence: int = 0


class CrmRecord(SQLModel, table=True):
    """A deal, payment, lead or activity as its source last told us. `parked` names
    why its current state is not in the ledger yet (a missing FX rate)."""

    __tablename__ = "crm_record"
    __table_args__ = (
        Index(
            "ix_crm_record_pipeline",
            "owner_id",
            "expected_close_on",
            postgresql_where=text("kind = 'deal' AND status = 'open'"),
        ),
        Index(
            "ix_crm_record_parked",
            "parked_currency",
            "parked_on",
            postgresql_where=text("parked_reason IS NOT NULL"),
        ),
        Index(
            "ix_crm_record_customer",
            "source_id",
            "customer_id",
            postgresql_where=text("kind = 'deal' AND customer_id IS NOT NULL"),
        ),
        {"schema": SCHEMA},
    )

    source_id: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    record_id: str = Field(primary_key=True)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str
    amount: Decimal | None = Field(default=None, sa_column=_money(nullable=True))
    currency: str | None = None
    owner_id: str
    product_line: str | None = None
    customer_id: str | None = None
    created_on: date | None = None
    closed_on: date | None = None
    expected_close_on: date | None = None
    state: dict = Field(sa_column=Column(JSONB, nullable=False))
    parked_reason: str | None = None
    parked_currency: str | None = None
    parked_on: date | None = None
    received_at: datetime = Field(sa_column=instant_column())


class RecordVersion(SQLModel, table=True):
    """Every version of a record that was accepted, as received: a deal's history."""

    __tablename__ = "record_version"
    __table_args__ = {"schema": SCHEMA}

    source_id: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    record_id: str = Field(primary_key=True)
    version: int = Field(sa_column=Column(BigInteger, primary_key=True))
    payload: dict = Field(sa_column=Column(JSONB, nullable=False))
    received_at: datetime = Field(sa_column=instant_column())


class FxRate(SQLModel, table=True):
    """How many base-currency units one unit of `currency` was worth on a day."""

    __tablename__ = "fx_rate"
    __table_args__ = {"schema": SCHEMA}

    currency: str = Field(primary_key=True)
    on: date = Field(primary_key=True)
    rate: Decimal = Field(sa_column=Column(Numeric(20, 10), nullable=False))
    updated_at: datetime = Field(sa_column=instant_column())


class ProjectionQueue(SQLModel, table=True):
    """Ledger rows not yet folded into goals' live progress."""

    __tablename__ = "projection_queue"
    __table_args__ = {"schema": SCHEMA}

    entry_seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


class LedgerEntry(SQLModel, table=True):
    """Append-only: one signed delta of one metric for one person."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_match", "metric", "credited_on"),
        Index("ix_ledger_entry_org_path", "org_path", postgresql_using="gin"),
        Index("ix_ledger_entry_record", "source_id", "record_kind", "record_id"),
        {"schema": SCHEMA},
    )

    id: UUID = Field(primary_key=True)
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(), nullable=False, unique=True)
    )
    source_id: str
    record_kind: str = "deal"
    record_id: str
    metric: str
    person_id: str = Field(index=True)
    org_path: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    product_line: str | None = None
    credited_on: date
    amount: Decimal = Field(sa_column=_money())
    currency: str | None = None
    reason: str
    record_version: int = Field(sa_column=Column(BigInteger, nullable=False))
    recorded_at: datetime = Field(sa_column=instant_column())
