"""Web and worker replicas of one service (`background_work`): a web replica serves and writes
its events to the outbox but runs no background loop; a worker replica beside it publishes them
and runs the service's workers. Against a real PostgreSQL and broker."""

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from kit_support import Store, create_store, create_topic, eventually, probe_event_type, unique
from sqlalchemy import func, select

from attain_devstack.testing import running
from servicekit.app import ServiceRuntime, create_service_app
from servicekit.settings import ServiceSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = await create_store(database_url, unique("replicas"))
    yield store
    await store.engine.dispose()


async def test_a_web_replica_runs_no_background_loop_and_a_worker_beside_it_publishes_its_events(
    store: Store, database_url: str, kafka_bootstrap: str
) -> None:
    topic = unique("replicas")
    await create_topic(kafka_bootstrap, topic)
    probe = probe_event_type(topic)
    ran: list[str] = []

    async def worker(runtime: ServiceRuntime, stop: asyncio.Event) -> None:  # type: ignore[type-arg]
        ran.append(runtime.settings.service_name)
        await stop.wait()

    def replica(name: str, background_work: bool):  # type: ignore[no-untyped-def]
        settings = ServiceSettings(
            service_name=name,
            database_url=database_url,
            kafka_bootstrap=kafka_bootstrap,
            outbox_poll_seconds=0.05,
            background_work=background_work,
        )
        return create_service_app(
            title=name, settings=settings, tables=store.tables, workers={"probe": worker}
        )

    async def unpublished() -> int:
        outbox = store.tables.outbox
        async with store.engine.connect() as conn:
            query = select(func.count()).where(outbox.c.published_at.is_(None))
            return int(await conn.scalar(query.select_from(outbox)) or 0)

    web = replica("web", background_work=False)
    async with running(web):
        async with web.state.runtime.unit_of_work() as uow:
            uow.publish(probe(probe_id="p1", key_="k", amount=Decimal(1)))
            await uow.commit()
        # A relay polls every 0.05 s and is woken on commit: a second is twenty chances.
        await asyncio.sleep(1.0)
        assert await unpublished() == 1
        assert ran == []
        async with running(replica("worker", background_work=True)):

            async def published() -> bool:
                return await unpublished() == 0

            await eventually(published, timeout=20)
            assert ran == ["worker"]
