"""The signed deal webhook across the process boundary: real database, real
broker, the app's relay and consumers running."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from attain_contracts import GoalUpserted, Period, PersonUpserted, topics
from attain_contracts.types import Membership
from attain_devstack.testing import TEST_SECRET, bearer, migrate, publish, running
from servicekit.auth import Role
from tracking_service.cli.sign import signed_headers
from tracking_service.main import create_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN, person_id="admin")


@pytest.fixture
async def client(fresh_database, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    settings = await migrated(fresh_database(), kafka_bootstrap, outbox_poll_seconds=0.2)
    async with running(create_app(settings)) as client:
        yield client


async def migrated(url: str, kafka_bootstrap: str, **settings: float) -> TrackingSettings:
    """The settings of a replica on the migrated database at `url`."""
    await migrate("tracking_service", url)
    return TrackingSettings(
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,  # type: ignore[arg-type]
        **settings,  # type: ignore[arg-type]
    )


@pytest.fixture
async def secret(client: httpx.AsyncClient) -> str:
    response = await client.put("/sources/crm", json={"name": "Test CRM"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return str(response.json()["secret"])


def deal(**fields: object) -> dict[str, object]:
    return {
        "id": f"D-{uuid4().hex[:8]}",
        "version": 1,
        "stage": "won",
        "amount": "12000.50",
        "currency": "CNY",
        "owner_id": "rep-1",
        "closed_on": "2026-03-10",
        **fields,
    }


async def post_deal(
    client: httpx.AsyncClient, secret: str, body: dict[str, object] | str
) -> httpx.Response:
    raw = body if isinstance(body, str) else json.dumps(body)
    return await client.post(
        "/webhooks/crm/deals", content=raw, headers=signed_headers(secret, raw)
    )


async def test_signed_deal_is_recorded_and_duplicates_and_stale_versions_change_nothing(
    client: httpx.AsyncClient, secret: str
) -> None:
    body = deal(version=2)
    first = await post_deal(client, secret, body)
    assert first.status_code == 200, first.text
    assert first.json()["duplicate"] is False
    assert len(first.json()["ledger_entries"]) == 2  # revenue and deals_won

    again = await post_deal(client, secret, body)
    assert again.json() == {**first.json(), "duplicate": True, "ledger_entries": []}

    older = await post_deal(client, secret, {**body, "version": 1, "amount": "1"})
    assert older.json()["stale"] is True
    assert older.json()["ledger_entries"] == []

    edited = await post_deal(client, secret, {**body, "version": 3, "amount": "15000.50"})
    assert len(edited.json()["ledger_entries"]) == 1


async def test_concurrent_webhooks_share_transactions_and_each_gets_its_own_answer(
    client: httpx.AsyncClient, secret: str
) -> None:
    before = _deliveries_and_commits((await client.get("/metrics")).text)
    distinct = [deal(amount=f"{100 + i}.00") for i in range(40)]
    edited = deal()
    versions = [{**edited, "version": v, "amount": f"{v}000.00"} for v in range(1, 6)]
    answers = await asyncio.gather(*(post_deal(client, secret, d) for d in distinct + versions))

    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    for sent, answer in zip(distinct + versions, answers, strict=True):
        assert (answer.json()["id"], answer.json()["version"]) == (sent["id"], sent["version"])
    for sent in [*distinct, edited]:
        history = await client.get(f"/sources/crm/deals/{sent['id']}/history", headers=ADMIN)
        ledger = history.json()["ledger"]
        revenue = sum(Decimal(r["amount"]) for r in ledger if r["metric"] == "revenue")
        won = sum(Decimal(r["amount"]) for r in ledger if r["metric"] == "deals_won")
        newest = sent if sent is not edited else versions[-1]
        assert (revenue, won) == (Decimal(str(newest["amount"])), 1)
    deliveries, commits = _deliveries_and_commits((await client.get("/metrics")).text)
    assert deliveries - before[0] == len(answers)
    assert commits - before[1] < len(answers)  # some requests shared a transaction


def _deliveries_and_commits(exposition: str) -> tuple[float, float]:
    """The group commit's histogram: deliveries in all (its sum) and transactions (count)."""
    figures = {}
    for line in exposition.splitlines():
        for part in ("_sum", "_count"):
            if line.startswith(f"attain_webhooks_per_commit{part}{{"):
                figures[part] = float(line.rsplit(" ", 1)[1])
    return figures.get("_sum", 0.0), figures.get("_count", 0.0)


@pytest.mark.parametrize("how", ["unsigned", "wrong secret", "tampered body", "expired", "garbled"])
async def test_badly_signed_webhooks_are_401_and_change_nothing(
    client: httpx.AsyncClient, secret: str, how: str
) -> None:
    body = deal()
    raw = json.dumps(body)
    headers = signed_headers(secret, raw)
    if how == "unsigned":
        headers = {"content-type": "application/json"}
    elif how == "wrong secret":
        headers = signed_headers("whsec_" + "A" * 43 + "=", raw)
    elif how == "tampered body":
        raw = raw.replace("12000.50", "92000.50")
    elif how == "expired":
        headers = signed_headers(secret, raw, now=datetime.now(UTC) - timedelta(minutes=6))
    elif how == "garbled":
        headers["webhook-signature"] = "v1"
    response = await client.post("/webhooks/crm/deals", content=raw, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    # The same deal, properly signed afterwards, is new: nothing was recorded before.
    accepted = await post_deal(client, secret, body)
    assert accepted.json()["duplicate"] is False


async def test_unknown_source_is_401(client: httpx.AsyncClient, secret: str) -> None:
    raw = json.dumps(deal())
    response = await client.post(
        "/webhooks/nope/deals", content=raw, headers=signed_headers(secret, raw)
    )
    assert response.status_code == 401


async def test_a_new_secret_holds_at_once_where_it_was_set_and_soon_after_another_replica_sets_it(
    fresh_database,  # type: ignore[no-untyped-def]
    kafka_bootstrap: str,
) -> None:
    """The replica keeps the sources it read (a webhook no longer reads its source): one it
    changes itself it forgets at once; one another replica changed (here: the database
    changed under it) it reads again once its cache time ends."""
    url = fresh_database()
    settings = await migrated(url, kafka_bootstrap, source_cache_seconds=1.0)
    async with running(create_app(settings)) as client:
        created = await client.put("/sources/crm", json={"name": "CRM"}, headers=ADMIN)
        first = created.json()["secret"]
        assert (await post_deal(client, first, deal())).status_code == 200  # read, and kept
        second = "whsec_" + "B" * 43 + "="
        changed = await client.put(
            "/sources/crm", json={"name": "CRM", "secret": second}, headers=ADMIN
        )
        assert changed.json()["secret"] == second
        assert (await post_deal(client, first, deal())).status_code == 401
        assert (await post_deal(client, second, deal())).status_code == 200

        third = "whsec_" + "C" * 43 + "="
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE tracking.source SET secret = :secret WHERE id = 'crm'"),
                {"secret": third},
            )
        await engine.dispose()
        assert (await post_deal(client, second, deal())).status_code == 200  # as kept
        await asyncio.sleep(1.2)
        assert (await post_deal(client, second, deal())).status_code == 401
        assert (await post_deal(client, third, deal())).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"currency": "cny"}, "currency"),
        ({"stage": "maybe"}, "stage"),
        ({"currency": "XYZ"}, "currency"),
        ({"closed_on": None}, "closed_on"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_bad_deals_are_422_naming_the_field(
    client: httpx.AsyncClient, secret: str, change: dict[str, object], field: str | None
) -> None:
    response = await post_deal(client, secret, deal(**change))
    assert response.status_code == 422, response.text
    assert response.json().get("field") == field


async def test_not_json_is_422(client: httpx.AsyncClient, secret: str) -> None:
    response = await post_deal(client, secret, "{not json")
    assert response.status_code == 422


async def test_deal_reaches_the_goal_progress_and_progress_event(
    client: httpx.AsyncClient, secret: str, kafka_bootstrap: str
) -> None:
    rep, goal_id = f"rep-{uuid4().hex[:6]}", f"goal-{uuid4().hex[:6]}"
    now = datetime.now(UTC)
    goal = GoalUpserted(
        goal_id=goal_id,
        parent_id=None,
        metric="revenue",
        direction="higher_is_better",
        org_unit_id="team-1",
        person_id=rep,
        owner_id=rep,
        period=Period(key="2026-03", start=date(2026, 3, 1), end=date(2026, 3, 31)),
        timezone="Asia/Shanghai",
        target=Decimal(100000),
        currency="CNY",
        status="active",
        method="manual",
        version=1,
        updated_at=now,
    )
    person = PersonUpserted(
        person_id=rep,
        name="Rep",
        maturity="new",
        memberships=[Membership(org_unit_id="team-1", valid_from=date(2026, 1, 1))],
        version=1,
        updated_at=now,
    )
    await publish(kafka_bootstrap, person, goal, time=now)
    progress_url = f"/goals/{goal_id}/progress?as_of=2026-03-31T12:00:00Z"
    await _until_ok(client, progress_url)

    accepted = await post_deal(client, secret, deal(owner_id=rep, amount="12000.50"))
    assert accepted.status_code == 200

    body = await _until(client, progress_url, lambda b: Decimal(b["actual"]) == Decimal("12000.50"))
    assert Decimal(body["attainment"]) == Decimal("0.1200")
    updates = await _progress_events(kafka_bootstrap, goal_id, Decimal("12000.50"))
    assert updates, "no GoalProgressUpdated showed the deal"
    # Each update the projector makes is numbered one more than the goal's last.
    second = await post_deal(client, secret, deal(owner_id=rep, amount="1000.00"))
    assert second.status_code == 200
    updates = await _progress_events(kafka_bootstrap, goal_id, Decimal("13000.50"))
    sequences = [update["sequence"] for update in updates]
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences))), sequences
    assert updates[-1]["actual"] == "13000.50" and len(updates) >= 2
    assert client  # keep the app running until the event is seen

    other_rep = await client.get(progress_url, headers=bearer(Role.REP, person_id="someone-else"))
    assert other_rep.status_code == 404
    owner = await client.get(progress_url, headers=bearer(Role.REP, person_id=rep))
    assert owner.status_code == 200


async def _until_ok(client: httpx.AsyncClient, url: str) -> dict:  # type: ignore[type-arg]
    return await _until(client, url, lambda _: True)


async def _until(client: httpx.AsyncClient, url: str, predicate, timeout: float = 30) -> dict:  # type: ignore[no-untyped-def, type-arg]
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while asyncio.get_running_loop().time() < deadline:
        response = await client.get(url, headers=ADMIN)
        last = response
        if response.status_code == 200 and predicate(response.json()):
            return response.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.2)
    raise AssertionError(f"{url} never satisfied the condition; last: {last and last.text}")


async def _progress_events(bootstrap: str, goal_id: str, actual: Decimal) -> list[dict]:  # type: ignore[type-arg]
    """The goal's updates from the first, up to the first that shows `actual`."""
    import asyncio

    consumer = AIOKafkaConsumer(
        topics.PROGRESS,
        bootstrap_servers=bootstrap,
        group_id=f"t-{uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen: list[dict] = []  # type: ignore[type-arg]
    reached = False
    try:
        async with asyncio.timeout(30):
            while not reached:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        # Other tests publish here too, a record that is no envelope among them.
                        if not (record.value and record.value.startswith(b"{")):
                            continue
                        data = json.loads(record.value)["data"]
                        if data["goal_id"] == goal_id and not reached:
                            seen.append(data)
                            reached = Decimal(data["actual"]) == actual
    finally:
        await consumer.stop()
    return seen
