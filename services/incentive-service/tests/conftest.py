"""The incentive-service every integration module of this directory runs: its own
database, the real broker, and a clock fixed on `SERVICE_NOW`."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from attain_devstack.testing import TEST_SECRET, migrate, running
from incentive_service.main import create_app
from incentive_service.settings import IncentiveSettings
from servicekit.clock import FixedClock

# Early in FY2026-Q2: Q1 can close, and corrections are recorded after it.
SERVICE_NOW = datetime(2026, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
async def client(module_database: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    await migrate("incentive_service", module_database)
    settings = IncentiveSettings(
        database_url=module_database,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,
        outbox_poll_seconds=0.2,
    )
    async with running(create_app(settings, clock=FixedClock(SERVICE_NOW))) as client:
        yield client
