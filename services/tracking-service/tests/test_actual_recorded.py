"""`ActualRecorded` names the record it credits by `record_id` / `record_version`
for every kind of record, beside the older `deal_id` / `deal_version`."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attain_contracts import ActualRecorded
from attain_devstack.testing import migrate
from servicekit.clock import FixedClock
from servicekit.db import create_engine, create_sessionmaker
from servicekit.uow import UnitOfWork
from tracking_service.service_layer.ingest import record
from tracking_service.service_layer.records import ActivityIn, DealIn, LeadIn, PaymentIn
from tracking_service.store import TrackingStore
from tracking_service.store.tables import MESSAGING

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def sessions(module_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await migrate("tracking_service", module_database)
    engine = create_engine(module_database)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def test_every_kind_of_record_is_named_by_record_id_and_version(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    source = f"kinds-{uuid4().hex}"
    records = [
        DealIn.model_validate(
            {
                "id": "d-1",
                "version": 3,
                "stage": "won",
                "amount": "100.00",
                "currency": "CNY",
                "owner_id": "ann",
                "closed_on": "2026-02-02",
            }
        ),
        PaymentIn.model_validate(
            {
                "id": "p-1",
                "version": 4,
                "amount": "50.00",
                "currency": "CNY",
                "owner_id": "ann",
                "received_on": "2026-02-03",
            }
        ),
        LeadIn.model_validate(
            {"id": "l-1", "version": 5, "owner_id": "ann", "created_on": "2026-02-04"}
        ),
        ActivityIn.model_validate(
            {"id": "a-1", "version": 6, "owner_id": "ann", "occurred_on": "2026-02-05"}
        ),
    ]
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    unit = UnitOfWork(sessions, MESSAGING, source="/test", clock=clock, store=TrackingStore)
    async with unit as uow:
        await record(uow, source, records, "CNY")
        await uow.commit()

    async with sessions() as session:
        payloads = (
            await session.execute(
                select(MESSAGING.outbox.c.payload).where(
                    MESSAGING.outbox.c.type == ActualRecorded.type
                )
            )
        ).scalars()
        events = [ActualRecorded.model_validate(p["data"]) for p in payloads]
    mine = [e for e in events if e.source == source]
    named = {(e.record_kind, e.record_id, e.record_version) for e in mine}
    assert named == {
        ("deal", "d-1", 3),
        ("payment", "p-1", 4),
        ("lead", "l-1", 5),
        ("activity", "a-1", 6),
    }
    assert all((e.record_id, e.record_version) == (e.deal_id, e.deal_version) for e in mine)


def test_an_event_written_before_the_fields_still_reads() -> None:
    old = {
        "entry_id": "e-1",
        "deal_id": "d-1",
        "source": "crm",
        "metric": "revenue",
        "person_id": "ann",
        "org_path": ["root"],
        "credited_on": "2026-02-02",
        "amount": "1.00",
        "reason": "won",
        "deal_version": 2,
        "recorded_at": "2026-02-02T10:00:00Z",
    }
    event = ActualRecorded.model_validate(old)
    assert event.record_id is None and event.record_version is None
