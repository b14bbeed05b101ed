"""Every way a CRM record gets in (the generic webhook of each kind, a source's
field mapping, HubSpot, Salesforce, the JSON batch and the CSV import, parked
records credited when their FX rate arrives), across the HTTP boundary with the
real database and broker. One app serves the module; each test works in sources
and records of its own."""

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import uuid4

import httpx
import pytest

from attain_contracts import PersonUpserted
from attain_contracts.types import Membership
from attain_devstack.testing import TEST_SECRET, bearer, migrate, publish, running
from servicekit.auth import Role
from tracking_service.cli.sign import signed_headers
from tracking_service.main import create_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN, person_id="admin")
INTEGRATION = bearer(Role.INTEGRATION)
Json = dict[str, Any]


@pytest.fixture(scope="module")
async def client(module_database: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    await migrate("tracking_service", module_database)
    settings = TrackingSettings(
        database_url=module_database,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,
        outbox_poll_seconds=0.2,
    )
    async with running(create_app(settings)) as client:
        yield client


@dataclass(frozen=True)
class Source:
    id: str
    secret: str


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


async def add_source(client: httpx.AsyncClient, **fields: Any) -> Source:
    source_id = unique("crm")
    response = await client.put(
        f"/sources/{source_id}", json={"name": source_id, **fields}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    return Source(source_id, response.json()["secret"])


@pytest.fixture
async def source(client: httpx.AsyncClient) -> Source:
    return await add_source(client)


def deal(**fields: Any) -> Json:
    return {
        "id": unique("D"),
        "version": 1,
        "stage": "won",
        "amount": "1000.00",
        "currency": "CNY",
        "owner_id": "rep-1",
        "closed_on": "2026-03-10",
        **fields,
    }


async def post_record(
    client: httpx.AsyncClient, source: Source, kind: str, body: Json | str
) -> httpx.Response:
    raw = body if isinstance(body, str) else json.dumps(body)
    return await client.post(
        f"/webhooks/{source.id}/{kind}", content=raw, headers=signed_headers(source.secret, raw)
    )


async def accepted(client: httpx.AsyncClient, source: Source, kind: str, body: Json) -> Json:
    response = await post_record(client, source, kind, body)
    assert response.status_code == 200, response.text
    result: Json = response.json()
    return result


async def history(
    client: httpx.AsyncClient, source_id: str, kind: str, record_id: str
) -> httpx.Response:
    return await client.get(f"/sources/{source_id}/{kind}/{record_id}/history", headers=ADMIN)


async def ledger(
    client: httpx.AsyncClient, source_id: str, kind: str, record_id: str
) -> list[Json]:
    response = await history(client, source_id, kind, record_id)
    assert response.status_code == 200, response.text
    rows: list[Json] = response.json()["ledger"]
    return rows


async def never_recorded(
    client: httpx.AsyncClient, source_id: str, kind: str, record_id: str
) -> bool:
    return (await history(client, source_id, kind, record_id)).status_code == 404


def net(rows: list[Json], metric: str, person_id: str | None = None) -> Decimal:
    return sum(
        (
            Decimal(row["amount"])
            for row in rows
            if row["metric"] == metric and person_id in (None, row["person_id"])
        ),
        Decimal(0),
    )


def nets(rows: list[Json]) -> dict[tuple[str, str], Decimal]:
    """What the rows add up to per (metric, person), leaving out what nets to zero."""
    totals: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        key = (row["metric"], row["person_id"])
        totals[key] = totals.get(key, Decimal(0)) + Decimal(row["amount"])
    return {key: amount for key, amount in totals.items() if amount != 0}


async def parked_count(client: httpx.AsyncClient) -> int:
    response = await client.get("/admin/projection", headers=ADMIN)
    assert response.status_code == 200, response.text
    return int(response.json()["parked"])


async def parked_list(client: httpx.AsyncClient) -> Json:
    response = await client.get("/admin/parked", params={"limit": 1000}, headers=ADMIN)
    assert response.status_code == 200, response.text
    listed: Json = response.json()
    return listed


def on_path(rows: list[Json], path: list[str]) -> Decimal:
    return sum(
        (
            Decimal(row["amount"])
            for row in rows
            if row["metric"] == "revenue" and row["org_path"] == path
        ),
        Decimal(0),
    )


async def until(
    read: Callable[[], Awaitable[Any]], predicate: Callable[[Any], bool], timeout: float = 30
) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if predicate(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not so after {timeout}s: {value}")
        await asyncio.sleep(0.2)


# --- the generic webhook ------------------------------------------------------


async def test_split_credit_adds_up_to_the_deal_and_the_deal_counts_for_the_primary_owner(
    client: httpx.AsyncClient, source: Source
) -> None:
    ann, bob, cy = unique("ann"), unique("bob"), unique("cy")
    body = deal(
        amount="100.00",
        owner_id=ann,
        splits=[
            {"owner_id": ann, "percent": "33.3333"},
            {"owner_id": bob, "percent": "33.3333"},
            {"owner_id": cy, "percent": "33.3334"},
        ],
    )
    await accepted(client, source, "deals", body)

    rows = await ledger(client, source.id, "deals", body["id"])
    assert net(rows, "revenue") == Decimal("100.00")
    # Largest remainder: the odd cent goes to the largest share's remainder.
    assert nets(rows) == {
        ("revenue", ann): Decimal("33.33"),
        ("revenue", bob): Decimal("33.33"),
        ("revenue", cy): Decimal("33.34"),
        ("deals_won", ann): Decimal(1),
    }
    assert all(row["currency"] == "CNY" for row in rows if row["metric"] == "revenue")


async def test_every_split_owner_s_credit_stands_on_their_own_org_path(
    client: httpx.AsyncClient, source: Source, kafka_bootstrap: str
) -> None:
    team = unique("team")
    owners = [unique("ann"), unique("bob"), unique("cy")]
    # A deal of each owner alone, recorded before anyone is heard of (so on no
    # path), is re-pathed to the team when its owner is: once all three are,
    # tracking-service knows the three people.
    probes = [deal(owner_id=owner, amount="1.00") for owner in owners]
    for probe in probes:
        await accepted(client, source, "deals", probe)
    now = datetime.now(UTC)
    await publish(
        kafka_bootstrap,
        *(
            PersonUpserted(
                person_id=owner,
                name=owner,
                maturity="new",
                memberships=[Membership(org_unit_id=team, valid_from=date(2026, 1, 1))],
                version=1,
                updated_at=now,
            )
            for owner in owners
        ),
        time=now,
    )
    for probe in probes:
        await until(
            partial(ledger, client, source.id, "deals", probe["id"]),
            lambda rows: on_path(rows, [team]) == Decimal("1.00"),
        )

    split = deal(
        amount="900.00",
        owner_id=owners[0],
        splits=[
            {"owner_id": owner, "percent": percent}
            for owner, percent in zip(owners, ["33.3334", "33.3333", "33.3333"], strict=True)
        ],
    )
    await accepted(client, source, "deals", split)
    rows = await ledger(client, source.id, "deals", split["id"])
    assert {row["person_id"]: row["org_path"] for row in rows if row["metric"] == "revenue"} == {
        owner: [team] for owner in owners
    }


async def test_an_opportunity_is_recorded_as_a_deal(
    client: httpx.AsyncClient, source: Source
) -> None:
    rep = unique("rep")
    body = deal(owner_id=rep, amount="42.00")
    response = await accepted(client, source, "opportunities", body)
    assert response["kind"] == "deal"
    assert nets(await ledger(client, source.id, "deals", body["id"])) == {
        ("revenue", rep): Decimal("42.00"),
        ("deals_won", rep): Decimal(1),
    }
    # The same deal under its other name is a duplicate, not a second deal.
    again = await accepted(client, source, "deals", body)
    assert again["duplicate"] is True


async def test_out_of_order_and_repeated_deliveries_net_to_the_newest_state(
    client: httpx.AsyncClient, source: Source
) -> None:
    record_id, rep = unique("D"), unique("rep")
    v1 = deal(id=record_id, version=1, owner_id=rep, amount="500.00")
    v2 = {**v1, "version": 2, "amount": "750.00"}
    v3 = {**v1, "version": 3, "stage": "lost", "closed_on": "2026-03-12"}

    newest = await accepted(client, source, "deals", v3)
    assert (newest["duplicate"], newest["stale"], newest["version"]) == (False, False, 3)
    rows_after_v3 = await ledger(client, source.id, "deals", record_id)

    for older in (v1, v2):
        late = await accepted(client, source, "deals", older)
        assert (late["stale"], late["duplicate"], late["version"]) == (True, False, 3)
        assert late["ledger_entries"] == []
    again = await accepted(client, source, "deals", v3)
    assert (again["duplicate"], again["stale"], again["ledger_entries"]) == (True, False, [])

    rows = await ledger(client, source.id, "deals", record_id)
    assert rows == rows_after_v3
    assert nets(rows) == {("deals_lost", rep): Decimal(1)}
    assert net(rows, "revenue") == 0
    stored = await history(client, source.id, "deals", record_id)
    assert stored.json()["version"] == 3
    assert stored.json()["state"]["stage"] == "lost"


async def test_payments_leads_and_activities_credit_their_metrics_and_undo_when_withdrawn(
    client: httpx.AsyncClient, source: Source
) -> None:
    rep = unique("rep")
    payment: Json = {
        "id": unique("P"),
        "version": 1,
        "amount": "480.25",
        "currency": "CNY",
        "owner_id": rep,
        "received_on": "2026-03-05",
    }
    lead: Json = {"id": unique("L"), "version": 1, "owner_id": rep, "created_on": "2026-03-02"}
    activity: Json = {
        "id": unique("A"),
        "version": 1,
        "type": "visit",
        "owner_id": rep,
        "occurred_on": "2026-03-03",
    }
    for kind, body in (("payments", payment), ("leads", lead), ("activities", activity)):
        await accepted(client, source, kind, body)

    assert nets(await ledger(client, source.id, "payments", payment["id"])) == {
        ("collections", rep): Decimal("480.25")
    }
    assert nets(await ledger(client, source.id, "leads", lead["id"])) == {
        ("leads_created", rep): Decimal(1)
    }
    assert nets(await ledger(client, source.id, "activities", activity["id"])) == {
        ("activities", rep): Decimal(1)
    }

    await accepted(client, source, "payments", {**payment, "version": 2, "status": "reversed"})
    await accepted(client, source, "leads", {**lead, "version": 2, "status": "deleted"})
    payment_rows = await ledger(client, source.id, "payments", payment["id"])
    lead_rows = await ledger(client, source.id, "leads", lead["id"])
    assert [Decimal(row["amount"]) for row in payment_rows] == [
        Decimal("480.25"),
        Decimal("-480.25"),
    ]
    assert nets(payment_rows) == {}
    assert [Decimal(row["amount"]) for row in lead_rows] == [Decimal(1), Decimal(-1)]
    assert nets(lead_rows) == {}


async def test_a_422_after_an_accepted_delivery_leaves_its_ledger_rows_intact(
    client: httpx.AsyncClient, source: Source
) -> None:
    body = deal(owner_id=unique("rep"), amount="320.00")
    await accepted(client, source, "deals", body)
    before = await ledger(client, source.id, "deals", body["id"])

    rejected = await post_record(client, source, "deals", {**body, "version": 2, "amount": "-1"})
    assert rejected.status_code == 422
    assert rejected.json()["field"] == "amount"

    assert await ledger(client, source.id, "deals", body["id"]) == before
    assert net(before, "revenue") == Decimal("320.00")
    assert (await history(client, source.id, "deals", body["id"])).json()["version"] == 1


async def test_a_deal_closed_before_it_was_created_is_credited_with_a_zero_day_cycle(
    client: httpx.AsyncClient, source: Source
) -> None:
    # A backdated entry: the deal was typed into the CRM after it had closed.
    rep = unique("rep")
    body = deal(owner_id=rep, created_on="2026-03-01", closed_on="2026-03-20")
    await accepted(client, source, "deals", body)
    backdated = {**body, "version": 2, "closed_on": "2026-02-20"}

    response = await post_record(client, source, "deals", backdated)

    assert response.status_code == 200, response.text
    assert (await history(client, source.id, "deals", body["id"])).json()["version"] == 2
    rows = await ledger(client, source.id, "deals", body["id"])
    by_day: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        key = (row["metric"], row["credited_on"])
        by_day[key] = by_day.get(key, Decimal(0)) + Decimal(row["amount"])
    assert {key: amount for key, amount in by_day.items() if amount != 0} == {
        ("opportunities_created", "2026-03-01"): Decimal(1),
        ("revenue", "2026-02-20"): Decimal("1000.00"),
        ("deals_won", "2026-02-20"): Decimal(1),
    }  # the sales cycle counts 0 days: the deal stays in the average's denominator


@pytest.mark.parametrize("currency", ["XYZ", "ABC"])
async def test_a_currency_that_is_not_iso_4217_is_422_naming_currency_not_parked(
    client: httpx.AsyncClient, source: Source, currency: str
) -> None:
    parked_before = await parked_count(client)
    body = deal(currency=currency)
    response = await post_record(client, source, "deals", body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "currency"
    assert "ISO 4217" in response.json()["detail"]
    payment = {
        "id": unique("P"),
        "version": 1,
        "amount": "10.00",
        "currency": currency,
        "owner_id": "rep-1",
        "received_on": "2026-03-02",
    }
    batch = await client.post(
        f"/sources/{source.id}/batch", json={"payments": [payment]}, headers=INTEGRATION
    )
    assert batch.status_code == 422, batch.text
    assert batch.json()["field"] == "payments[0].currency"
    assert await never_recorded(client, source.id, "deals", body["id"])
    assert await parked_count(client) == parked_before


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        (
            {
                "owner_id": None,
                "splits": [{"owner_id": "a", "percent": "60"}, {"owner_id": "b", "percent": "30"}],
            },
            "splits",
            "add up to 100",
        ),
        ({"closed_on": None}, "closed_on", "won deal needs closed_on"),
        ({"owner_id": "c", "splits": [{"owner_id": "a", "percent": "100"}]}, "owner_id", "split"),
    ],
    ids=["splits-not-100", "won-without-closed_on", "owner-not-in-splits"],
)
async def test_a_rule_across_fields_names_its_field(
    client: httpx.AsyncClient, source: Source, fields: Json, field: str, reason: str
) -> None:
    body = {k: v for k, v in {**deal(), **fields}.items() if v is not None}
    response = await post_record(client, source, "deals", body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == field
    assert reason in problem["detail"]
    assert "Value error" not in response.text
    batch = await client.post(
        f"/sources/{source.id}/batch", json={"deals": [deal(), body]}, headers=INTEGRATION
    )
    (error,) = batch.json()["errors"]
    assert error["field"] == f"deals[1].{field}"
    assert not error["reason"].startswith("Value error")


async def test_a_webhook_id_already_committed_is_a_duplicate_and_not_processed_again(
    client: httpx.AsyncClient, source: Source
) -> None:
    rep = unique("rep")
    body = deal(owner_id=rep, amount="500.00")
    raw = json.dumps(body)
    first = await client.post(
        f"/webhooks/{source.id}/deals",
        content=raw,
        headers=signed_headers(source.secret, raw, message_id="msg_resent"),
    )
    assert first.status_code == 200, first.text
    # The same message id is the same message (Standard Webhooks' idempotency key),
    # whatever it carries now: it is not applied a second time.
    changed = json.dumps({**body, "version": 2, "amount": "900.00"})
    again = await client.post(
        f"/webhooks/{source.id}/deals",
        content=changed,
        headers=signed_headers(source.secret, changed, message_id="msg_resent"),
    )
    assert again.status_code == 200, again.text
    assert again.json() == {**first.json(), "duplicate": True, "ledger_entries": []}
    assert nets(await ledger(client, source.id, "deals", body["id"])) == {
        ("revenue", rep): Decimal("500.00"),
        ("deals_won", rep): Decimal(1),
    }
    # Another source may use the same message id for a message of its own.
    other = await add_source(client)
    theirs = json.dumps(deal(owner_id=rep))
    elsewhere = await client.post(
        f"/webhooks/{other.id}/deals",
        content=theirs,
        headers=signed_headers(other.secret, theirs, message_id="msg_resent"),
    )
    assert elsewhere.json()["duplicate"] is False


async def test_a_retry_of_a_webhook_that_failed_is_processed(client: httpx.AsyncClient) -> None:
    source = await add_source(client, mapping=DEAL_MAPPING)
    rep, record_id = unique("rep"), unique("X")
    own: Json = {
        "dealId": record_id,
        "rev": 1,
        "owner": rep,
        "props": {"amt": "1,234.50", "stage": "closedwon", "closed": "2026-03-08"},
    }
    raw = json.dumps(own)
    message_id = unique("msg")
    failed = await client.post(
        f"/webhooks/{source.id}/deals",
        content=raw,
        headers=signed_headers(source.secret, raw, message_id=message_id),
    )
    assert failed.status_code == 422
    # The admin fixes the mapping; the CRM retries the same message.
    fixed = {**DEAL_MAPPING["deals"], "amount": {"path": "props.amt_plain", "as": "decimal"}}
    own["props"]["amt_plain"] = "1234.50"
    put = await client.put(
        f"/sources/{source.id}",
        json={"name": source.id, "secret": source.secret, "mapping": {"deals": fixed}},
        headers=ADMIN,
    )
    assert put.status_code == 200, put.text
    raw = json.dumps(own)
    retried = await client.post(
        f"/webhooks/{source.id}/deals",
        content=raw,
        headers=signed_headers(source.secret, raw, message_id=message_id),
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["duplicate"] is False
    assert nets(await ledger(client, source.id, "deals", record_id)) == {
        ("revenue", rep): Decimal("1234.50"),
        ("deals_won", rep): Decimal(1),
    }


async def test_a_customer_s_first_won_deal_credits_new_customers_and_the_credit_moves(
    client: httpx.AsyncClient, source: Source
) -> None:
    ann, bob, cy = unique("ann"), unique("bob"), unique("cy")
    customer = unique("C")

    async def credits() -> dict[str, dict[tuple[str, str], Decimal]]:
        """Each deal's net new_customers credit by (person, day)."""
        found = {}
        for body in (first, later, earlier):
            rows = [
                r
                for r in await ledger(client, source.id, "deals", body["id"])
                if r["metric"] == "new_customers"
            ]
            totals: dict[tuple[str, str], Decimal] = {}
            for r in rows:
                key = (r["person_id"], r["credited_on"])
                totals[key] = totals.get(key, Decimal(0)) + Decimal(r["amount"])
            found[body["id"]] = {k: a for k, a in totals.items() if a != 0}
        return found

    first = deal(owner_id=ann, customer_id=customer, closed_on="2026-03-10")
    later = deal(owner_id=bob, customer_id=customer, closed_on="2026-03-20")
    earlier = deal(owner_id=cy, customer_id=customer, stage="open", closed_on=None)
    del earlier["closed_on"]
    for body in (first, later, earlier):
        await accepted(client, source, "deals", body)
    assert await credits() == {
        first["id"]: {(ann, "2026-03-10"): Decimal(1)},
        later["id"]: {},
        earlier["id"]: {},
    }

    # An earlier win of the same customer arrives: the credit moves to it.
    await accepted(
        client,
        source,
        "deals",
        {**earlier, "version": 2, "stage": "won", "closed_on": "2026-03-05"},
    )
    assert await credits() == {
        first["id"]: {},
        later["id"]: {},
        earlier["id"]: {(cy, "2026-03-05"): Decimal(1)},
    }

    # That deal is lost after all, and the first one cancelled: the next win is the first.
    await accepted(
        client,
        source,
        "deals",
        {**earlier, "version": 3, "stage": "lost", "closed_on": "2026-03-05"},
    )
    await accepted(client, source, "deals", {**first, "version": 2, "stage": "cancelled"})
    assert await credits() == {
        first["id"]: {},
        later["id"]: {(bob, "2026-03-20"): Decimal(1)},
        earlier["id"]: {},
    }

    # A won deal of a customer of its own counts once more; one without a customer never.
    other = deal(owner_id=ann, customer_id=unique("C"))
    anonymous = deal(owner_id=ann)
    response = await client.post(
        f"/sources/{source.id}/batch", json={"deals": [other, anonymous]}, headers=INTEGRATION
    )
    assert response.status_code == 200, response.text
    assert net(await ledger(client, source.id, "deals", other["id"]), "new_customers") == 1
    assert net(await ledger(client, source.id, "deals", anonymous["id"]), "new_customers") == 0


# --- FX -------------------------------------------------------------------------


async def test_a_deal_without_its_rate_is_parked_and_credited_at_the_rate_when_it_arrives(
    client: httpx.AsyncClient, source: Source
) -> None:
    rep = unique("rep")
    body = deal(owner_id=rep, amount="100.00", currency="USD", closed_on="2026-02-17")
    parked_before = await parked_count(client)

    response = await accepted(client, source, "deals", body)
    assert "USD" in response["parked"] and "2026-02-17" in response["parked"]
    assert response["ledger_entries"] == []
    assert await ledger(client, source.id, "deals", body["id"]) == []
    assert await parked_count(client) == parked_before + 1
    waiting = await parked_list(client)
    assert waiting["count"] == parked_before + 1
    [listed] = [r for r in waiting["data"] if r["record_id"] == body["id"]]
    assert (listed["source_id"], listed["kind"], listed["owner_id"]) == (source.id, "deal", rep)
    assert (listed["waiting_for_currency"], listed["waiting_for_on"]) == ("USD", "2026-02-17")
    assert listed["reason"] == response["parked"]

    rate = {"currency": "USD", "on": "2026-02-17", "rate": "7.12345"}
    stored = await client.put("/fx-rates", json={"rates": [rate]}, headers=ADMIN)
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"stored": 1, "credited": 1}

    # 100.00 * 7.12345 = 712.345: half-up to the cent, not half-even.
    assert nets(await ledger(client, source.id, "deals", body["id"])) == {
        ("revenue", rep): Decimal("712.35"),
        ("deals_won", rep): Decimal(1),
    }
    assert (await history(client, source.id, "deals", body["id"])).json()["parked"] is None
    assert await parked_count(client) == parked_before
    assert body["id"] not in {r["record_id"] for r in (await parked_list(client))["data"]}


async def test_a_foreign_deal_moved_to_another_close_date_is_a_change_not_a_second_win(
    client: httpx.AsyncClient, source: Source
) -> None:
    rates = [
        {"currency": "GBP", "on": "2026-02-23", "rate": "9.10"},
        {"currency": "GBP", "on": "2026-02-24", "rate": "9.20"},
    ]
    stored = await client.put("/fx-rates", json={"rates": rates}, headers=ADMIN)
    assert stored.status_code == 200, stored.text
    rep = unique("rep")
    v1 = deal(owner_id=rep, amount="10.00", currency="GBP", closed_on="2026-02-23")
    await accepted(client, source, "deals", v1)
    await accepted(client, source, "deals", {**v1, "version": 2, "closed_on": "2026-02-24"})

    # At the new day's rate the deal is worth more in CNY: an amount change.
    rows = await ledger(client, source.id, "deals", v1["id"])
    moved = [(r["metric"], r["credited_on"], Decimal(r["amount"]), r["reason"]) for r in rows]
    assert sorted(moved) == [
        ("deals_won", "2026-02-23", Decimal(-1), "amount_changed"),
        ("deals_won", "2026-02-23", Decimal(1), "won"),
        ("deals_won", "2026-02-24", Decimal(1), "amount_changed"),
        ("revenue", "2026-02-23", Decimal("-91.00"), "amount_changed"),
        ("revenue", "2026-02-23", Decimal("91.00"), "won"),
        ("revenue", "2026-02-24", Decimal("92.00"), "amount_changed"),
    ]


async def test_a_rate_for_the_base_currency_is_422_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    rates = [
        {"currency": "EUR", "on": "2026-02-18", "rate": "7.8"},
        {"currency": "CNY", "on": "2026-02-18", "rate": "1"},
    ]
    response = await client.put("/fx-rates", json={"rates": rates}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["field"] == "rates[1].currency"


# --- the JSON batch -------------------------------------------------------------


async def test_a_batch_applies_its_valid_records_and_reports_the_invalid_one(
    client: httpx.AsyncClient, source: Source
) -> None:
    rep = unique("rep")
    valid = [deal(owner_id=rep, amount=f"{n}00.00") for n in (1, 2, 3)]
    invalid = deal(owner_id=rep)
    del invalid["closed_on"]

    response = await client.post(
        f"/sources/{source.id}/batch", json={"deals": [*valid, invalid]}, headers=INTEGRATION
    )
    assert response.status_code == 207, response.text
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (3, 1)
    (error,) = report["errors"]
    assert (error["kind"], error["index"], error["id"]) == ("deals", 3, invalid["id"])
    assert error["field"] == "deals[3].closed_on"  # a won deal needs closed_on
    assert "closed_on" in error["reason"]

    for body in valid:
        rows = await ledger(client, source.id, "deals", body["id"])
        assert net(rows, "revenue", rep) == Decimal(body["amount"])
    assert await never_recorded(client, source.id, "deals", invalid["id"])


async def test_a_batch_of_invalid_records_only_is_422_listing_each(
    client: httpx.AsyncClient, source: Source
) -> None:
    bodies = [deal(amount="-1"), deal(currency="yen")]
    response = await client.post(
        f"/sources/{source.id}/batch", json={"deals": bodies}, headers=INTEGRATION
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert [(e["index"], e["field"]) for e in problem["errors"]] == [
        (0, "deals[0].amount"),
        (1, "deals[1].currency"),
    ]
    assert problem["field"] == "deals[0].amount"
    for body in bodies:
        assert await never_recorded(client, source.id, "deals", body["id"])


@pytest.mark.parametrize(
    ("batch", "field"),
    [
        ({"deals": [{}] * 10_001}, "records"),
        ({"deals": [{}] * 5_000, "payments": [{}] * 5_001}, "records"),
        ({"invoices": [{}]}, "invoices"),
    ],
    ids=["too-many", "too-many-across-kinds", "unknown-kind"],
)
async def test_a_batch_too_large_or_of_an_unknown_kind_is_422(
    client: httpx.AsyncClient, source: Source, batch: Json, field: str
) -> None:
    response = await client.post(f"/sources/{source.id}/batch", json=batch, headers=INTEGRATION)
    assert response.status_code == 422
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), (bearer(Role.REP, person_id="rep-1"), 404)],
    ids=["no-token", "rep"],
)
async def test_a_batch_needs_an_integration_or_admin_token(
    client: httpx.AsyncClient, source: Source, headers: dict[str, str], status: int
) -> None:
    body = deal()
    response = await client.post(
        f"/sources/{source.id}/batch", json={"deals": [body]}, headers=headers
    )
    assert response.status_code == status
    assert await never_recorded(client, source.id, "deals", body["id"])


# --- the CSV import -------------------------------------------------------------


async def send_csv(
    client: httpx.AsyncClient, source: Source, text: str, how: str
) -> httpx.Response:
    url = f"/sources/{source.id}/imports/deals"
    if how == "form":
        files = {"file": ("deals.csv", text.encode(), "text/csv")}
        return await client.post(url, files=files, headers=INTEGRATION)
    return await client.post(
        url, content=text.encode(), headers={**INTEGRATION, "content-type": "text/csv"}
    )


@pytest.mark.parametrize("how", ["body", "form"])
async def test_a_csv_import_applies_the_valid_rows_and_reports_the_bad_rows_lines(
    client: httpx.AsyncClient, source: Source, how: str
) -> None:
    ann, bob = unique("ann"), unique("bob")
    ids = [unique("D") for _ in range(4)]
    text = (
        "id,version,stage,amount,currency,owner_id,closed_on,splits\n"
        f"{ids[0]},1,won,250.50,CNY,{ann},2026-03-04,\n"
        f"{ids[1]},1,won,abc,CNY,{ann},2026-03-04,\n"
        f"{ids[2]},1,won,1000.00,CNY,,2026-03-06,{ann}:60;{bob}:40\n"
        f"{ids[3]},1,won,10.00,CNY,{ann},,\n"
    )
    response = await send_csv(client, source, text, how)
    assert response.status_code == 207, response.text
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (2, 2)
    # Line 1 is the header; a won deal needs closed_on, across fields.
    assert [(e["row"], e["field"], e["id"]) for e in report["errors"]] == [
        (3, "amount", ids[1]),
        (5, "closed_on", ids[3]),
    ]

    assert nets(await ledger(client, source.id, "deals", ids[0])) == {
        ("revenue", ann): Decimal("250.50"),
        ("deals_won", ann): Decimal(1),
    }
    for rejected in (ids[1], ids[3]):
        assert await never_recorded(client, source.id, "deals", rejected)
    assert nets(await ledger(client, source.id, "deals", ids[2])) == {
        ("revenue", ann): Decimal("600.00"),
        ("revenue", bob): Decimal("400.00"),
        ("deals_won", ann): Decimal(1),
    }


# --- a source's own shape, by field mapping -------------------------------------


async def test_the_admin_lists_every_source_with_its_kind_and_secret(
    client: httpx.AsyncClient,
) -> None:
    generic = await add_source(client)
    hubspot = await add_source(client, kind="hubspot", secret="hubspot-client-secret-1")

    response = await client.get("/sources", headers=ADMIN)
    assert response.status_code == 200, response.text
    listed = {s["id"]: (s["kind"], s["secret"]) for s in response.json()["data"]}
    assert listed[generic.id] == ("generic", generic.secret)
    assert listed[hubspot.id] == ("hubspot", "hubspot-client-secret-1")
    refused = await client.get("/sources", headers=INTEGRATION)
    assert refused.status_code in (403, 404)


DEAL_MAPPING = {
    "deals": {
        "id": "dealId",
        "amount": {"path": "props.amt", "as": "decimal"},
        "stage": {"path": "props.stage", "values": {"closedwon": "won"}, "otherwise": "open"},
        "currency": {"value": "CNY"},
        "owner_id": "owner",
        "closed_on": {"path": "props.closed", "as": "date_or_epoch_ms"},
        "version": "rev",
    }
}


async def test_a_source_with_a_mapping_sends_its_own_shape(client: httpx.AsyncClient) -> None:
    source = await add_source(client, mapping=DEAL_MAPPING)
    rep, record_id = unique("rep"), unique("X")
    own: Json = {
        "dealId": record_id,
        "rev": 4,
        "owner": rep,
        "props": {"amt": 1234.5, "stage": "closedwon", "closed": "1772928000000"},
    }
    response = await accepted(client, source, "deals", own)
    assert (response["id"], response["version"]) == (record_id, 4)
    assert nets(await ledger(client, source.id, "deals", record_id)) == {
        ("revenue", rep): Decimal("1234.50"),
        ("deals_won", rep): Decimal(1),
    }
    (row,) = [
        r for r in await ledger(client, source.id, "deals", record_id) if r["metric"] == "revenue"
    ]
    assert row["credited_on"] == "2026-03-08"

    # A stage the mapping does not name is open, which takes back the win.
    reopened = {**own, "rev": 5, "props": {**own["props"], "stage": "negotiation"}}
    await accepted(client, source, "deals", reopened)
    assert nets(await ledger(client, source.id, "deals", record_id)) == {}


async def test_a_record_the_mapping_cannot_convert_is_422_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    source = await add_source(client, mapping=DEAL_MAPPING)
    record_id = unique("X")
    own: Json = {
        "dealId": record_id,
        "rev": 1,
        "owner": "rep-1",
        "props": {"amt": "lots", "stage": "closedwon", "closed": "2026-03-08"},
    }
    response = await post_record(client, source, "deals", own)
    assert response.status_code == 422
    assert response.json()["field"] == "amount"
    assert "lots" in response.json()["detail"]
    batch = await client.post(
        f"/sources/{source.id}/batch", json={"deals": [own]}, headers=INTEGRATION
    )
    assert batch.status_code == 422
    assert batch.json()["field"] == "deals[0].amount"
    assert await never_recorded(client, source.id, "deals", record_id)


# --- HubSpot ----------------------------------------------------------------------

HUBSPOT_SECRET = "hubspot-client-secret-0123456789"


def hubspot_signature(secret: str, uri: str, body: bytes, timestamp: str) -> str:
    """HubSpot's v3: base64(HMAC-SHA256(client secret, method + URI + body + timestamp))."""
    message = b"POST" + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def hubspot_deal(deal_id: str, owner: str) -> bytes:
    properties = {
        "amount": "2500.00",
        "dealstage": "closedwon",
        "closedate": "2026-03-12T10:00:00Z",
        "createdate": "2026-02-01T09:00:00Z",
        "hs_lastmodifieddate": "2026-03-12T10:00:00.250Z",
        "hubspot_owner_id": owner,
    }
    return json.dumps({"id": deal_id, "properties": properties}).encode()


async def post_hubspot(
    client: httpx.AsyncClient,
    source: Source,
    body: bytes,
    *,
    signed_body: bytes | None = None,
    secret: str = HUBSPOT_SECRET,
    sent_at: datetime | None = None,
) -> httpx.Response:
    path = f"/webhooks/{source.id}/hubspot"
    timestamp = str(int((sent_at or datetime.now(UTC)).timestamp() * 1000))
    signature = hubspot_signature(secret, f"http://test{path}", signed_body or body, timestamp)
    headers = {
        "content-type": "application/json",
        "x-hubspot-request-timestamp": timestamp,
        "x-hubspot-signature-v3": signature,
    }
    return await client.post(path, content=body, headers=headers)


@pytest.fixture
async def hubspot_source(client: httpx.AsyncClient) -> Source:
    return await add_source(client, kind="hubspot", secret=HUBSPOT_SECRET)


async def test_a_hubspot_deal_signed_with_v3_is_recorded(
    client: httpx.AsyncClient, hubspot_source: Source
) -> None:
    deal_id, owner = str(uuid4().int)[:10], unique("hs-owner")
    response = await post_hubspot(client, hubspot_source, hubspot_deal(deal_id, owner))
    assert response.status_code == 200, response.text
    (outcome,) = response.json()
    assert (outcome["id"], outcome["duplicate"]) == (deal_id, False)
    rows = await ledger(client, hubspot_source.id, "deals", deal_id)
    assert nets(rows) == {
        ("revenue", owner): Decimal("2500.00"),
        ("deals_won", owner): Decimal(1),
        ("opportunities_created", owner): Decimal(1),
        ("sales_cycle_days", owner): Decimal(39),
    }


async def test_the_default_mappings_credit_the_person_by_their_crm_owner_id_or_e_mail(
    client: httpx.AsyncClient, hubspot_source: Source, source: Source, kafka_bootstrap: str
) -> None:
    ann, bob, team = unique("ann"), unique("bob"), unique("team")
    owner, late_owner = unique("9"), unique("9")
    person = PersonUpserted(
        person_id=ann,
        name="Ann",
        email="Ann.Lee@Example.com",
        maturity="experienced",
        memberships=[Membership(org_unit_id=team, valid_from=date(2025, 1, 1))],
        crm_ids={hubspot_source.id: owner},
        version=1,
        updated_at=datetime.now(UTC),
    )
    probe = deal(owner_id=ann, amount="1.00")
    await accepted(client, source, "deals", probe)
    await publish(kafka_bootstrap, person)
    await until(  # heard of before the deals come
        partial(ledger, client, source.id, "deals", probe["id"]),
        lambda rows: on_path(rows, [team]) == Decimal("1.00"),
    )
    deal_id = unique("HS")
    response = await post_hubspot(client, hubspot_source, hubspot_deal(deal_id, owner))
    assert response.status_code == 200, response.text
    rows = await ledger(client, hubspot_source.id, "deals", deal_id)
    assert {(r["person_id"], tuple(r["org_path"])) for r in rows} == {(ann, (team,))}

    # A source whose records name the owner by e-mail finds the person the same way.
    by_mail = deal(owner_id="ann.lee@example.com")
    await accepted(client, source, "deals", by_mail)
    assert nets(await ledger(client, source.id, "deals", by_mail["id"])) == {
        ("revenue", ann): Decimal("1000.00"),
        ("deals_won", ann): Decimal(1),
    }

    # Credits made before the person's CRM id was known move to them when it is.
    early_id = unique("HS")
    response = await post_hubspot(client, hubspot_source, hubspot_deal(early_id, late_owner))
    assert response.status_code == 200, response.text
    await publish(
        kafka_bootstrap,
        PersonUpserted(
            person_id=bob,
            name="Bob",
            maturity="experienced",
            memberships=[Membership(org_unit_id=team, valid_from=date(2025, 1, 1))],
            crm_ids={hubspot_source.id: late_owner},
            version=1,
            updated_at=datetime.now(UTC),
        ),
    )

    async def early_nets() -> dict[tuple[str, str], Decimal]:
        return nets(await ledger(client, hubspot_source.id, "deals", early_id))

    moved = await until(early_nets, lambda n: ("revenue", bob) in n)
    assert moved == {
        ("revenue", bob): Decimal("2500.00"),
        ("deals_won", bob): Decimal(1),
        ("opportunities_created", bob): Decimal(1),
        ("sales_cycle_days", bob): Decimal(39),
    }


@pytest.mark.parametrize("how", ["tampered body", "wrong secret", "expired"])
async def test_a_hubspot_request_that_does_not_verify_is_401_and_records_nothing(
    client: httpx.AsyncClient, hubspot_source: Source, how: str
) -> None:
    deal_id = str(uuid4().int)[:10]
    body = hubspot_deal(deal_id, "hs-owner")
    if how == "tampered body":
        response = await post_hubspot(
            client,
            hubspot_source,
            body.replace(b"2500.00", b"9500.00"),
            signed_body=body,
        )
    elif how == "wrong secret":
        response = await post_hubspot(client, hubspot_source, body, secret="x" * 32)
    else:
        sent_at = datetime.now(UTC) - timedelta(minutes=5, seconds=5)
        response = await post_hubspot(client, hubspot_source, body, sent_at=sent_at)
    assert response.status_code == 401
    assert await never_recorded(client, hubspot_source.id, "deals", deal_id)


# --- Salesforce ---------------------------------------------------------------------

ORGANIZATION_ID = "00D5e000000KQ2eEAG"


def outbound_message(organization_id: str, opportunity_id: str, owner: str) -> bytes:
    """An Outbound Message as Salesforce sends it for one Opportunity."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{organization_id}</OrganizationId>
   <ActionId>04k5e000000CaRkAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <Notification>
    <Id>04l5e00000Gx7QzAAJ</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>{opportunity_id}</sf:Id>
     <sf:Amount>95000.0</sf:Amount>
     <sf:CloseDate>2026-03-20</sf:CloseDate>
     <sf:LastModifiedDate>2026-03-20T16:45:12.000Z</sf:LastModifiedDate>
     <sf:OwnerId>{owner}</sf:OwnerId>
     <sf:StageName>Closed Won</sf:StageName>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>
""".encode()


@pytest.fixture
async def salesforce_source(client: httpx.AsyncClient) -> Source:
    return await add_source(client, kind="salesforce", organization_id=ORGANIZATION_ID)


async def post_salesforce(
    client: httpx.AsyncClient, source: Source, body: bytes, token: str
) -> httpx.Response:
    return await client.post(
        f"/webhooks/{source.id}/salesforce",
        params={"token": token},
        content=body,
        headers={"content-type": "text/xml; charset=utf-8", "soapaction": '""'},
    )


async def test_a_salesforce_outbound_message_is_recorded_and_acknowledged(
    client: httpx.AsyncClient, salesforce_source: Source
) -> None:
    opportunity, owner = unique("006"), unique("005")
    response = await post_salesforce(
        client,
        salesforce_source,
        outbound_message(ORGANIZATION_ID, opportunity, owner),
        salesforce_source.secret,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Ack>true</Ack>" in response.text
    assert nets(await ledger(client, salesforce_source.id, "deals", opportunity)) == {
        ("revenue", owner): Decimal("95000.00"),
        ("deals_won", owner): Decimal(1),
    }


@pytest.mark.parametrize("how", ["wrong token", "another organization"])
async def test_a_salesforce_message_with_a_wrong_token_or_organization_is_401(
    client: httpx.AsyncClient, salesforce_source: Source, how: str
) -> None:
    opportunity = unique("006")
    if how == "wrong token":
        body = outbound_message(ORGANIZATION_ID, opportunity, "005-owner")
        token = salesforce_source.secret[:-1] + (
            "A" if salesforce_source.secret[-1] != "A" else "B"
        )
    else:
        body = outbound_message("00D5e000000ZZ9zEAG", opportunity, "005-owner")
        token = salesforce_source.secret
    response = await post_salesforce(client, salesforce_source, body, token)
    assert response.status_code == 401
    assert "<Ack>" not in response.text
    assert await never_recorded(client, salesforce_source.id, "deals", opportunity)
