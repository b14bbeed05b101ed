"""The migration job's command, exactly as compose.yaml runs it, against a real database: the
database comes from the environment, as in the container, and every schema reaches head."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
import yaml

from attain_devstack.run import SERVICES

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose" / "compose.yaml"


@pytest.mark.integration
async def test_the_migrate_job_brings_every_schema_to_head(fresh_database) -> None:
    database_url = fresh_database()
    command = yaml.safe_load(COMPOSE.read_text())["services"]["migrate"]["command"]
    assert command[:2] == ["python", "-m"]
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("ATTAIN_")},
        "ATTAIN_DATABASE_URL": database_url,
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, *command[1:]],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for service in SERVICES:
            if service.migrated:
                schema = service.package.removesuffix("_service")
                version = await connection.fetchval(
                    f'SELECT version_num FROM "{schema}".alembic_version'
                )
                assert version, schema
    finally:
        await connection.close()


@pytest.mark.unit
def test_without_a_database_the_migrate_command_says_which_setting_is_missing() -> None:
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("ATTAIN_")
    }
    done = subprocess.run(
        [sys.executable, "-m", "servicekit.migrations", "upgrade", "goal_service"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "ATTAIN_GOAL_DATABASE_URL or ATTAIN_DATABASE_URL" in done.stderr
