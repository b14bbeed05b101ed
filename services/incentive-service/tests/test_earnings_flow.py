"""incentive-service against a real PostgreSQL (migrated by its own migrations)
and the real broker: actuals in, earnings and EarningsUpdated out."""

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from attain_contracts import ActualRecorded, EarningsUpdated, Envelope
from attain_devstack.testing import (
    TEST_SECRET,
    bearer,
    envelope,
    migrate,
    publish,
    publish_envelopes,
    running,
)
from incentive_service.handlers.actuals import record_earnings
from incentive_service.main import create_app
from incentive_service.settings import IncentiveSettings
from incentive_service.store.tables import MESSAGING, Plan
from servicekit.auth import Role
from servicekit.clock import FixedClock
from servicekit.db import create_engine, create_sessionmaker
from servicekit.uow import UnitOfWork

pytestmark = pytest.mark.integration

PLAN = {
    "name": "Flat 5%",
    "rate": "0.05",
    "currency": "CNY",
    "effective_from": "2026-01-01",
}


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid4().hex[:10]}"


ADMIN = bearer(Role.ADMIN)
WAIT_SECONDS = 60


def actual(
    person_id: str, deal_id: str, amount: str, on: date, *, metric: str = "revenue"
) -> ActualRecorded:
    return ActualRecorded(
        entry_id=unique("entry"),
        deal_id=deal_id,
        source="test-crm",
        metric=metric,
        person_id=person_id,
        org_path=["org_root"],
        credited_on=on,
        amount=Decimal(amount),
        currency="CNY" if metric == "revenue" else None,
        reason="won" if not amount.startswith("-") else "reversed",
        deal_version=1,
        recorded_at=datetime.now(UTC),
    )


async def migrated(fresh_database: Callable[[], str]) -> str:
    url = fresh_database()
    await migrate("incentive_service", url)
    return url


@pytest.fixture(scope="module")
async def client(module_database: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    """One service for the tests of this module that need it running: stopping the app
    waits for its consumer to finish joining the group, which takes the broker seconds,
    so they start it once."""
    await migrate("incentive_service", module_database)
    settings = IncentiveSettings(
        database_url=module_database,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,
        outbox_poll_seconds=0.2,
    )
    async with running(create_app(settings)) as client:
        yield client


@pytest.fixture
async def incentives(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        EarningsUpdated.topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=None,  # every partition at once, without waiting to join a group
        auto_offset_reset="earliest",
    )
    await consumer.start()
    yield consumer
    await consumer.stop()


async def updates_until(
    consumer: AIOKafkaConsumer,
    seen: list[EarningsUpdated],
    person_id: str,
    version: int,
) -> list[EarningsUpdated]:
    """Read EarningsUpdated of `person_id` into `seen` until one of `version` arrives."""
    async with asyncio.timeout(WAIT_SECONDS):
        while not any(update.version == version for update in seen):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    item = Envelope.from_bytes(record.value or b"")
                    if item.type == EarningsUpdated.type and item.data["person_id"] == person_id:
                        update = item.event()
                        assert isinstance(update, EarningsUpdated)
                        seen.append(update)
    return seen


async def test_a_won_deal_earns_once_and_its_reversal_nets_to_zero(
    client: httpx.AsyncClient,
    kafka_bootstrap: str,
    incentives: AIOKafkaConsumer,
) -> None:
    rep, deal = unique("rep"), unique("deal")
    plan = await client.put(f"/plans/{unique('plan')}", json=PLAN, headers=ADMIN)
    assert plan.status_code == 200, plan.text

    won = actual(rep, deal, "12000.00", date(2026, 3, 10))
    republished = envelope(won)  # the same ledger row again, under a new event id
    first = envelope(won)
    await publish_envelopes(
        kafka_bootstrap,
        envelope(actual(rep, deal, "3", date(2026, 3, 9), metric="deals_won")),
        envelope(actual(rep, deal, "500.00", date(2025, 12, 20))),  # before any plan
        first,
        first,
        republished,
    )
    seen: list[EarningsUpdated] = []
    await updates_until(incentives, seen, rep, version=1)
    assert seen[0].total.amount == Decimal("600.00")
    assert seen[0].statement_id == f"{rep}:2026-03"
    own = bearer(Role.REP, person_id=rep)
    march = (await client.get(f"/people/{rep}/earnings?period=2026-03", headers=own)).json()
    assert [(line["entry_id"], line["amount"]) for line in march["lines"]] == [
        (won.entry_id, "600.00")
    ]
    assert march["lines"][0]["formula"] == "12000.00 × 5% = 600.00"  # noqa: RUF001
    assert march["total"] == "600.00"
    december = (await client.get(f"/people/{rep}/earnings?period=2025-12", headers=own)).json()
    assert december["lines"] == []

    # Same deal, so the same partition: once its update arrives, the duplicates ahead
    # of it have been handled too.
    reversal = actual(rep, deal, "-12000.00", date(2026, 3, 20))
    await publish(kafka_bootstrap, reversal)
    await updates_until(incentives, seen, rep, version=2)
    assert [(u.version, u.total.amount) for u in seen] == [
        (1, Decimal("600.00")),
        (2, Decimal("0.00")),
    ]
    march = (await client.get(f"/people/{rep}/earnings?period=2026-03", headers=ADMIN)).json()
    assert [line["amount"] for line in march["lines"]] == ["600.00", "-600.00"]
    assert march["lines"][1]["formula"] == "-12000.00 × 5% = -600.00"  # noqa: RUF001
    assert (march["count"], march["total"], march["currency"]) == (2, "0.00", "CNY")


async def test_plans_are_validated_and_versioned(client: httpx.AsyncClient) -> None:
    plan_id = unique("plan")
    created = await client.put(f"/plans/{plan_id}", json=PLAN, headers=ADMIN)
    assert created.status_code == 200
    assert (created.json()["rate"], created.json()["version"]) == ("0.05", 1)
    same = await client.put(f"/plans/{plan_id}", json=PLAN, headers=ADMIN)
    assert same.json()["version"] == 1
    changed = await client.put(f"/plans/{plan_id}", json={**PLAN, "rate": 0.06}, headers=ADMIN)
    assert (changed.json()["rate"], changed.json()["version"]) == ("0.06", 2)
    fetched = await client.get(f"/plans/{plan_id}", headers=bearer(Role.REP, person_id="p"))
    assert fetched.json() == changed.json()

    for rate in ("-0.01", "1.5", "five", None):
        bad = await client.put(f"/plans/{plan_id}", json={**PLAN, "rate": rate}, headers=ADMIN)
        assert bad.status_code == 422, rate
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["field"] == "rate"
    for end in ("2026-01-01", "2025-12-31"):
        bad = await client.put(
            f"/plans/{plan_id}", json={**PLAN, "effective_to": end}, headers=ADMIN
        )
        assert (bad.status_code, bad.json()["field"]) == (422, "effective_to")

    assert (await client.put(f"/plans/{plan_id}", json=PLAN)).status_code == 401
    as_rep = await client.put(f"/plans/{plan_id}", json=PLAN, headers=bearer(Role.REP))
    assert as_rep.status_code == 404
    missing = await client.get(f"/plans/{unique('plan')}", headers=ADMIN)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_a_rep_sees_only_their_own_earnings(client: httpx.AsyncClient) -> None:
    rep, other = unique("rep"), unique("rep")
    path = f"/people/{rep}/earnings?period=2026-03"
    assert (await client.get(path, headers=bearer(Role.REP, person_id=rep))).status_code == 200
    assert (await client.get(path, headers=bearer(Role.REP, person_id=other))).status_code == 404
    assert (await client.get(path, headers=bearer(Role.VIEWER, person_id=rep))).status_code == 404
    for role in (Role.ADMIN, Role.PLANNER, Role.MANAGER):
        assert (await client.get(path, headers=bearer(role, person_id=other))).status_code == 200
    for period in ("2026-13", "2026-3", "march", ""):
        bad = await client.get(f"/people/{rep}/earnings?period={period}", headers=ADMIN)
        assert (bad.status_code, bad.json()["field"]) == (422, "period"), period
    no_period = await client.get(f"/people/{rep}/earnings", headers=ADMIN)
    assert (no_period.status_code, no_period.json()["field"]) == (422, "period")


async def test_a_batch_publishes_one_update_per_person_and_period(
    fresh_database: Callable[[], str],
) -> None:
    engine = create_engine(await migrated(fresh_database))
    sessions = create_sessionmaker(engine)
    clock = FixedClock(datetime(2026, 4, 1, tzinfo=UTC))

    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(sessions, MESSAGING, source="/attain/test", clock=clock)

    try:
        async with unit_of_work() as uow:
            uow.session.add_all(
                [
                    Plan(
                        id="old",
                        name="old",
                        rate=Decimal("0.05"),
                        currency="CNY",
                        effective_from=date(2026, 1, 1),
                        updated_at=clock.now(),
                    ),
                    Plan(
                        id="new",
                        name="new",
                        rate=Decimal("0.10"),
                        currency="CNY",
                        effective_from=date(2026, 3, 1),
                        updated_at=clock.now(),
                    ),
                ]
            )
            await uow.commit()
        ann, bob = "ann", "bob"
        batch = [
            actual(ann, "d1", "1000.00", date(2026, 2, 10)),
            actual(ann, "d2", "2000.00", date(2026, 3, 5)),
            actual(ann, "d3", "0.10", date(2026, 3, 6)),
            actual(bob, "d4", "100.00", date(2026, 3, 7)),
            actual(bob, "d5", "100.00", date(2025, 6, 1)),  # no plan: skipped
        ]
        async with unit_of_work() as uow:
            await record_earnings(uow, batch)
            await uow.commit()
        async with unit_of_work() as uow:
            await record_earnings(uow, batch[:2])  # replayed rows are not paid twice
            await uow.commit()

        async with engine.connect() as conn:
            payloads = (await conn.execute(select(MESSAGING.outbox.c.payload))).scalars().all()
        updates = sorted(
            (p["data"]["statement_id"], p["data"]["total"]["amount"], p["data"]["version"])
            for p in payloads
        )
        assert updates == [
            ("ann:2026-02", "50.00", 1),
            ("ann:2026-03", "200.01", 2),
            ("bob:2026-03", "10.00", 1),
        ]
    finally:
        await engine.dispose()


async def test_concurrent_batches_for_one_period_each_see_the_other(
    fresh_database: Callable[[], str],
) -> None:
    engine = create_engine(await migrated(fresh_database))
    sessions = create_sessionmaker(engine)
    clock = FixedClock(datetime(2026, 4, 1, tzinfo=UTC))

    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(sessions, MESSAGING, source="/attain/test", clock=clock)

    try:
        async with unit_of_work() as uow:
            uow.session.add(
                Plan(
                    id="flat",
                    name="flat",
                    rate=Decimal("0.05"),
                    currency="CNY",
                    effective_from=date(2026, 1, 1),
                    updated_at=clock.now(),
                )
            )
            await uow.commit()

        async def second_replica() -> None:
            async with unit_of_work() as uow:
                await record_earnings(uow, [actual("ann", "d2", "12000.00", date(2026, 3, 2))])
                await uow.commit()

        async with unit_of_work() as first:
            await record_earnings(first, [actual("ann", "d1", "12000.00", date(2026, 3, 1))])
            waiting = asyncio.create_task(second_replica())
            await asyncio.sleep(0.5)
            assert not waiting.done()  # held until the first batch commits
            await first.commit()
        await waiting

        async with engine.connect() as conn:
            payloads = (await conn.execute(select(MESSAGING.outbox.c.payload))).scalars().all()
        totals = sorted((p["data"]["version"], p["data"]["total"]["amount"]) for p in payloads)
        assert totals == [(1, "600.00"), (2, "1200.00")]
    finally:
        await engine.dispose()
