"""The service's database: engine, sessions, and the outbox and inbox tables
that live in the service's own schema."""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    func,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from servicekit.newest import newest_by


@dataclass(frozen=True)
class MessagingTables:
    schema: str
    outbox: Table
    inbox: Table

    @property
    def notify_channel(self) -> str:
        return f"{self.schema}_outbox"


def messaging_tables(metadata: MetaData, schema: str) -> MessagingTables:
    """The outbox has the columns Debezium's outbox event router expects (`id`,
    `aggregatetype`, `aggregateid`, `type`, `payload`), so change data capture can
    replace the relay later; `seq` keeps the order in which rows were written."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("seq", BigInteger, Identity(), nullable=False, unique=True),
        Column("aggregatetype", Text, nullable=False),
        Column("aggregateid", Text, nullable=False),
        Column("type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        Index(
            "ix_outbox_unpublished",
            "seq",
            postgresql_where=text("published_at IS NULL"),
        ),
        schema=schema,
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer_group", Text, nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("event_type", Text, nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer_group", "event_id"),
        schema=schema,
    )
    return MessagingTables(schema=schema, outbox=outbox, inbox=inbox)


# SQLAlchemy's default, named so that the pool's limit can be exported (metrics.watch_pool).
POOL_MAX_OVERFLOW = 10


def create_engine(database_url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        database_url, pool_size=pool_size, max_overflow=POOL_MAX_OVERFLOW, pool_pre_ping=True
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def instant_column(nullable: bool = False) -> Column:
    """A timezone-aware instant: every time a service stores is one."""
    return Column(DateTime(timezone=True), nullable=nullable)


# Below this many rows an INSERT is as fast and simpler to follow in logs.
COPY_THRESHOLD = 1_000


async def write_rows(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` (all with the same keys) into `table` in the session's
    transaction; many rows go by COPY, a fraction of INSERT's cost (a plan
    writes a company's goals at once)."""
    if not rows:
        return
    if len(rows) < COPY_THRESHOLD:
        await session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    as_json = {c.name for c in table.columns if isinstance(c.type, JSONB)}
    records = [
        tuple(json.dumps(row[c]) if c in as_json else row[c] for c in columns) for row in rows
    ]
    connection = await (await session.connection()).get_raw_connection()
    await connection.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        table.name, schema_name=table.schema, columns=columns, records=records
    )


async def upsert_newer(
    session: AsyncSession, model: Any, key: str, rows: Sequence[dict[str, Any]], by: str
) -> None:
    """Insert each row, or replace the stored one where the row's `by` column
    (a version or sequence) is newer: redelivered and reordered events change nothing."""
    if not rows:
        return
    stmt = pg_insert(model).values(sorted(rows, key=lambda row: row[key]))
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={name: stmt.excluded[name] for name in rows[0] if name != key},
        where=getattr(model, by) < getattr(stmt.excluded, by),
    )
    await session.execute(stmt)


def newest_versions(rows: Iterable[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
    """One row per key, the highest version: one batch may carry several."""
    return list(newest_by(rows, lambda row: row[key], lambda row: row["version"]).values())


# SQLSTATEs of a server that is going away or not back yet, as during a restart or a failover:
# connection exceptions (class 08), admin and crash shutdown, cannot connect now (57P01-57P03).
_SERVER_GOING_AWAY = ("08", "57P01", "57P02", "57P03")


def is_transient(error: BaseException) -> bool:
    """A failure of the infrastructure (the database or the broker gone) rather than of the
    request or event: a consumer never dead-letters for it (its batch is redelivered), and a
    request gets a 503 to retry."""
    if isinstance(error, DBAPIError) and (
        error.connection_invalidated
        or (getattr(error.orig, "sqlstate", None) or "").startswith(_SERVER_GOING_AWAY)
        # asyncpg's state machine on a connection that broke in the middle of an operation
        # ("cannot switch to state 15; another operation is in progress").
        or isinstance(getattr(error.orig, "__cause__", None), asyncpg.InternalClientError)
    ):
        return True
    return isinstance(error, OperationalError | InterfaceError | OSError | TimeoutError)
