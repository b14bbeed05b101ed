from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from attain_devstack.postgres import asyncpg_url, start_embedded_postgres, stop_embedded_postgres

pytestmark = pytest.mark.integration

USER_TABLES = "select count(*) from information_schema.tables where table_schema = 'public'"


async def query(url: str, *statements: str) -> object:
    """Run the statements in one transaction; return the first value the last one returns."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                result = await connection.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


async def test_the_session_database_answers(database_url: str) -> None:
    assert str(await query(database_url, "select version()")).startswith("PostgreSQL ")


async def test_fresh_databases_are_empty_and_distinct(
    database_url: str, fresh_database: Callable[[], str]
) -> None:
    first, second = fresh_database(), fresh_database()

    await query(first, "create table probe (id int)")

    assert len({make_url(url).database for url in (database_url, first, second)}) == 3
    assert await query(first, USER_TABLES) == 1
    assert await query(second, USER_TABLES) == 0


async def test_embedded_postgres_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    data_dir = tmp_path / "postgres"
    url = start_embedded_postgres(data_dir)
    await query(url, "create table note (body text)", "insert into note values ('kept')")
    stop_embedded_postgres(data_dir)
    assert not postgres_serves(data_dir)

    url = start_embedded_postgres(data_dir)
    try:
        assert await query(url, "select body from note") == "kept"
    finally:
        stop_embedded_postgres(data_dir)
    assert not postgres_serves(data_dir)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/attain", "postgresql+asyncpg://u:p@db:5432/attain"),
        ("postgresql+asyncpg://u@db/attain", "postgresql+asyncpg://u@db/attain"),
        ("postgresql+psycopg://u@db/attain", "postgresql+asyncpg://u@db/attain"),
    ],
)
def test_database_urls_are_given_the_asyncpg_driver(given: str, expected: str) -> None:
    assert asyncpg_url(given) == expected


def postgres_serves(data_dir: Path) -> bool:
    return any(
        str(data_dir.resolve()) in process.info["cmdline"]
        for process in psutil.process_iter(["name", "cmdline"])
        if process.info["name"] == "postgres" and process.info["cmdline"]
    )
