"""Alembic, the same way for every service: each service's `migrations/env.py`
calls `run_migrations(metadata, schema)`, and `upgrade` migrates a database to
head from code (tests and `make run` use it exactly as production would)."""

import asyncio
import sys
from importlib.resources import files

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def alembic_config(package: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files(package) / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(package: str, database_url: str, revision: str = "head") -> None:
    """Synchronous: call it from a thread when an event loop is running."""
    command.upgrade(alembic_config(package, database_url), revision)


def run_migrations(metadata: MetaData, schema: str) -> None:
    """The body of a service's `env.py`: online migrations with the async engine,
    the version table and every object in the service's own schema."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"

    def include_object(obj, name, type_, reflected, compare_to):
        return type_ != "table" or getattr(obj, "schema", None) == schema

    def migrate(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.begin() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())


def main() -> None:
    """`python -m servicekit.migrations upgrade PACKAGE DATABASE_URL` migrates to head;
    `... revision PACKAGE DATABASE_URL MESSAGE` autogenerates the next migration
    against a database that is at head."""
    action, package, database_url, *message = sys.argv[1:]
    if action == "upgrade":
        upgrade(package, database_url)
    elif action == "revision":
        config = alembic_config(package, database_url)
        command.revision(config, message=" ".join(message), autogenerate=True)
    else:
        raise SystemExit(f"unknown action {action}: use upgrade or revision")


if __name__ == "__main__":
    main()
