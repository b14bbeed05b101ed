"""The issue's property, through the real ingestion path and database: for any
sequence of deal versions, delivered in any order and in any batching with any
duplicates, the ledger per owner equals what each deal's final version credits."""

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from random import Random
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from attain_devstack.testing import migrate
from servicekit.clock import FixedClock
from servicekit.db import create_engine, create_sessionmaker
from servicekit.uow import UnitOfWork
from tracking_service.domain.ledger import credits
from tracking_service.service_layer.ingest import record
from tracking_service.service_layer.records import DealIn
from tracking_service.store import TrackingStore
from tracking_service.store.tables import MESSAGING, LedgerEntry

pytestmark = pytest.mark.integration

OWNERS = ["ann", "bob", "cy"]


@pytest.fixture(scope="module")
async def sessions(module_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await migrate("tracking_service", module_database)
    engine = create_engine(module_database)
    yield create_sessionmaker(engine)
    await engine.dispose()


versions = st.fixed_dictionaries(
    {
        "stage": st.sampled_from(["open", "won", "lost", "cancelled"]),
        "amount": st.decimals(min_value=0, max_value=10**6, places=2),
        "owners": st.lists(st.sampled_from(OWNERS), min_size=1, max_size=3, unique=True),
        "closed_on": st.sampled_from([date(2026, 1, 31), date(2026, 2, 1)]),
    }
)


def deal_in(deal_id: str, version: int, v: dict) -> DealIn:  # type: ignore[type-arg]
    owners = v["owners"]
    splits = None
    if len(owners) > 1:
        shares = [Decimal(100) // len(owners)] * len(owners)
        shares[0] += Decimal(100) - sum(shares)
        splits = [{"owner_id": o, "percent": p} for o, p in zip(owners, shares, strict=True)]
    return DealIn.model_validate(
        {
            "id": deal_id,
            "version": version,
            "stage": v["stage"],
            "amount": v["amount"],
            "currency": "CNY",
            "owner_id": owners[0],
            "splits": splits,
            "created_on": "2026-01-02",
            "closed_on": v["closed_on"].isoformat(),
        }
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    history=st.lists(st.tuples(st.sampled_from(["d1", "d2", "d3"]), versions), max_size=12),
    seed=st.integers(),
    duplicates=st.lists(st.integers(min_value=0, max_value=11), max_size=6),
    batch_size=st.integers(min_value=1, max_value=8),
)
async def test_any_order_and_batching_nets_to_the_final_versions(
    sessions: async_sessionmaker[AsyncSession],
    history: list[tuple[str, dict]],  # type: ignore[type-arg]
    seed: int,
    duplicates: list[int],
    batch_size: int,
) -> None:
    source = f"prop-{uuid4().hex}"
    versioned = [deal_in(name, version, v) for version, (name, v) in enumerate(history, start=1)]
    deliveries = versioned + [versioned[i % len(versioned)] for i in duplicates if versioned]
    Random(seed).shuffle(deliveries)
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    for start in range(0, len(deliveries), batch_size):
        unit = UnitOfWork(sessions, MESSAGING, source="/test", clock=clock, store=TrackingStore)
        async with unit as uow:
            await record(uow, source, deliveries[start : start + batch_size], "CNY")
            await uow.commit()

    final = {d.id: d for d in versioned}
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for item in final.values():
        for key, amount in credits(item.to_state("CNY", {})).items():
            expected[(key.person_id, key.metric)] += amount
    async with sessions() as session:
        rows = await session.execute(
            select(
                col(LedgerEntry.person_id), col(LedgerEntry.metric), func.sum(LedgerEntry.amount)
            )
            .where(col(LedgerEntry.source_id) == source)
            .group_by(col(LedgerEntry.person_id), col(LedgerEntry.metric))
        )
        booked = {(p, m): Decimal(a) for p, m, a in rows.all()}
    assert {k: v for k, v in booked.items() if v} == {k: v for k, v in expected.items() if v}
