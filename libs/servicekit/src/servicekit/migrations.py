"""Alembic, the same way for every service: each service's `migrations/env.py`
calls `run_migrations(metadata, schema)`, and `upgrade` migrates a database to
head from code (tests and `make run` use it exactly as production would)."""

import asyncio
import os
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
    """`python -m servicekit.migrations upgrade PACKAGE [PACKAGE ...] [DATABASE_URL]` migrates
    each package to head; `... revision PACKAGE DATABASE_URL MESSAGE` autogenerates the next
    migration against a database that is at head.

    Without DATABASE_URL, each package's database is the one its service reads from the
    environment (`configured_database_url`): a deployment's migration job then names the
    packages only, and the password stays out of its command line."""
    action, *arguments = sys.argv[1:] or [""]
    if action == "upgrade" and arguments:
        *packages, last = arguments
        if "://" in last and packages:
            database_urls = dict.fromkeys(packages, last)
        else:
            packages.append(last)
            database_urls = {package: configured_database_url(package) for package in packages}
        for package, database_url in database_urls.items():
            upgrade(package, database_url)
            print(f"{package}: migrated to head", flush=True)
    elif action == "revision" and len(arguments) >= 2:
        package, database_url, *message = arguments
        config = alembic_config(package, database_url)
        command.revision(config, message=" ".join(message), autogenerate=True)
    else:
        raise SystemExit(
            "usage: python -m servicekit.migrations upgrade PACKAGE [PACKAGE ...] [DATABASE_URL]\n"
            "       python -m servicekit.migrations revision PACKAGE DATABASE_URL MESSAGE"
        )


def configured_database_url(package: str) -> str:
    """The database `package`'s service uses: its own `ATTAIN_<NAME>_DATABASE_URL`
    (`goal_service` reads `ATTAIN_GOAL_DATABASE_URL`), else the shared `ATTAIN_DATABASE_URL`,
    the order of `ServiceSettings`' sources. No default: a migration job that was given no
    database must say so, not try the development address."""
    own = f"ATTAIN_{package.removesuffix('_service').upper()}_DATABASE_URL"
    for name in (own, "ATTAIN_DATABASE_URL"):
        if os.environ.get(name):
            return os.environ[name]
    raise SystemExit(f"{package}: set {own} or ATTAIN_DATABASE_URL (or pass DATABASE_URL)")


if __name__ == "__main__":
    main()
