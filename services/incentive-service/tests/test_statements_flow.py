"""incentive-service against a real PostgreSQL and the real broker: goal-service's
org, people and goals and tracking's ledger in; statements priced by a plan,
closed, corrected by clawbacks, and published.

The tests share one database and app, so each uses its own org and plans, and
periods are closed with care: a closed period refuses plan versions that would
change it, so each period kind is closed by one test only (FY2026-Q1 by the
worked example, the year FY2025 and the month 2025-12 by the closing tests);
the other tests price the open quarter FY2026-Q2 with versions from 2026-04-01."""

import asyncio
import csv
import io
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from attain_contracts import (
    ActualRecorded,
    EarningsUpdated,
    Envelope,
    Event,
    GoalUpserted,
    OrgUnitUpserted,
    Period,
    PersonUpserted,
    StatementClosed,
)
from attain_contracts.types import Membership
from attain_devstack.testing import bearer, publish
from servicekit.auth import Role

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN)
WAIT_SECONDS = 20
# Q1 closes on this day; corrections are recorded after it.
NOW = datetime(2026, 4, 5, tzinfo=UTC)  # the service's clock: conftest.SERVICE_NOW
TRACKING_AHEAD = datetime(2026, 8, 1, tzinfo=UTC)
Q1 = Period(key="FY2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31))
# The quarter the clock is in: open in every test of this module.
Q2 = Period(key="FY2026-Q2", start=date(2026, 4, 1), end=date(2026, 6, 30))
FY2025 = Period(key="FY2025", start=date(2025, 1, 1), end=date(2025, 12, 31))
DECEMBER = Period(key="2025-12", start=date(2025, 12, 1), end=date(2025, 12, 31))

E = TypeVar("E", bound=Event)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


class Team:
    """A company (or, given `root`, a unit of an existing one) with one team and
    its manager, reps with quotas for one period."""

    def __init__(self, bootstrap: str, root: str | None = None) -> None:
        self.bootstrap = bootstrap
        self.root, self.unit = root or unique("co"), unique("team")
        self.manager = unique("mgr")
        self.reps: list[str] = []

    async def create(self, quotas: dict[str, str], period: Period = Q1) -> None:
        now = datetime.now(UTC)
        events: list[Any] = [
            OrgUnitUpserted(
                org_unit_id=self.root,
                name="Co",
                kind="company",
                parent_id=None,
                manager_id=None,
                path=[self.root],
                version=1,
                updated_at=now,
            ),
            OrgUnitUpserted(
                org_unit_id=self.unit,
                name="Team",
                kind="team",
                parent_id=self.root,
                manager_id=self.manager,
                path=[self.root, self.unit],
                version=1,
                updated_at=now,
            ),
        ]
        for name, target in quotas.items():
            person = f"{name}-{self.unit}"
            self.reps.append(person)
            events.append(self._person(person))
            events.append(self.goal(person, target, period))
        events.append(self._person(self.manager))
        await publish(self.bootstrap, *events)

    async def ready(self, client: httpx.AsyncClient, period: Period) -> None:
        """Wait until the service holds the team, its people and their quotas, so
        that what a test does next is priced against all of them."""

        async def board() -> httpx.Response:
            return await client.get(
                f"/org-units/{self.unit}/leaderboard", params={"period": period.key}, headers=ADMIN
            )

        await eventually(
            board,
            lambda r: (
                r.status_code == 200
                and {row["person_id"] for row in r.json()["data"] if row["target"] is not None}
                == set(self.reps)
            ),
        )

    def _person(self, person_id: str) -> PersonUpserted:
        return PersonUpserted(
            person_id=person_id,
            name=person_id,
            maturity="experienced",
            memberships=[Membership(org_unit_id=self.unit, valid_from=date(2025, 1, 1))],
            version=1,
            updated_at=datetime.now(UTC),
        )

    def goal(self, person_id: str | None, target: str, period: Period = Q1) -> GoalUpserted:
        """A person's quota, or with no person the team's own goal."""
        return GoalUpserted(
            goal_id=f"g-{person_id or self.unit}-{period.key}",
            parent_id=None,
            metric="revenue",
            direction="higher_is_better",
            org_unit_id=self.unit,
            person_id=person_id,
            owner_id=person_id or self.manager,
            period=period,
            timezone="UTC",
            target=Decimal(target),
            currency="CNY",
            status="active",
            method="manual",
            version=1,
            updated_at=datetime.now(UTC),
        )

    def credit(
        self,
        person: str,
        deal: str,
        amount: str,
        on: date,
        reason: str = "won",
        recorded_at: datetime = NOW,
        product_line: str | None = None,
    ) -> ActualRecorded:
        return ActualRecorded(
            entry_id=unique("entry"),
            deal_id=deal,
            source="crm",
            metric="revenue",
            person_id=person,
            org_path=[self.root, self.unit],
            product_line=product_line,
            credited_on=on,
            amount=Decimal(amount),
            currency="CNY",
            reason=reason,
            deal_version=1,
            recorded_at=recorded_at,
        )


async def eventually(probe: Callable[[], Awaitable[Any]], until: Callable[[Any], bool]) -> Any:
    found = None
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                found = await probe()
                if until(found):
                    return found
                await asyncio.sleep(0.2)
    except TimeoutError:
        shown = found.text if isinstance(found, httpx.Response) else found
        raise AssertionError(f"still {shown} after {WAIT_SECONDS} s") from None


def worked_example_plan(team: Team, method: str = "marginal") -> dict[str, Any]:
    return {
        "components": [
            {
                "kind": "commission",
                "id": "base",
                "method": method,
                "tiers": [
                    {"floor": "0", "ceiling": "1.0", "rate": "0.05"},
                    {"floor": "1.0", "ceiling": None, "rate": "0.08"},
                ],
            }
        ]
    }


def commission(*tiers: tuple[str, str | None, str], method: str = "marginal") -> dict[str, Any]:
    return {
        "kind": "commission",
        "id": "base",
        "method": method,
        "tiers": [
            {"floor": floor, "ceiling": ceiling, "rate": rate} for floor, ceiling, rate in tiers
        ],
    }


WORKED_TIERS = commission(("0", "1.0", "0.05"), ("1.0", None, "0.08"))


async def put_plan(
    client: httpx.AsyncClient,
    *,
    period: str,
    effective_from: date,
    components: list[dict[str, Any]],
    assignments: list[dict[str, str]],
    clawback_days: int | None = None,
) -> str:
    plan = unique("plan")
    put = await client.put(
        f"/plans/{plan}",
        json={"name": plan, "period": period, "currency": "CNY", "assignments": assignments},
        headers=ADMIN,
    )
    assert put.status_code == 200, put.text
    terms: dict[str, Any] = {"components": components}
    if clawback_days is not None:
        terms["clawback_days"] = clawback_days
    version = await client.put(
        f"/plans/{plan}/versions/{effective_from.isoformat()}", json=terms, headers=ADMIN
    )
    assert version.status_code == 200, version.text
    return plan


def reps_of(team: Team) -> list[dict[str, str]]:
    return [{"role": "rep", "org_unit_id": team.unit}]


async def statement_when(
    client: httpx.AsyncClient,
    person: str,
    period_key: str,
    until: Callable[[dict[str, Any]], bool],
    headers: dict[str, str] = ADMIN,
) -> dict[str, Any]:
    """The statement as soon as it satisfies `until`."""

    async def probe() -> httpx.Response:
        return await client.get(f"/people/{person}/statements/{period_key}", headers=headers)

    found = await eventually(probe, lambda r: r.status_code == 200 and until(r.json()))
    body: dict[str, Any] = found.json()
    return body


def revenue_is(amount: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: Decimal(body["revenue"]) == Decimal(amount)


def amounts(body: dict[str, Any]) -> list[tuple[str, Decimal]]:
    return [(line["kind"], Decimal(line["amount"])) for line in body["lines"]]


async def published(
    bootstrap: str, kind: type[E], matching: Callable[[E], bool], count: int
) -> list[E]:
    """The events of `kind` on the broker that match, read from the start of the
    topic until `count` were found and for a second more, which would also show
    any published twice."""
    consumer = AIOKafkaConsumer(
        kind.topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[E] = []

    async def read(ms: int) -> None:
        for records in (await consumer.getmany(timeout_ms=ms)).values():
            for record in records:
                assert record.value is not None
                envelope = Envelope.from_bytes(record.value)
                if envelope.type == kind.type:
                    event = envelope.event()
                    assert isinstance(event, kind)
                    if matching(event):
                        found.append(event)

    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while len(found) < count:
                await read(500)
        settled = asyncio.get_running_loop().time() + 1
        while asyncio.get_running_loop().time() < settled:
            await read(200)
    finally:
        await consumer.stop()
    return found


async def test_the_worked_example_is_priced_closed_and_clawed_back(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "100000"})
    (ann,) = team.reps
    plan = unique("plan")
    put = await client.put(
        f"/plans/{plan}",
        json={
            "name": "Q plan",
            "period": "quarter",
            "currency": "CNY",
            "assignments": [{"role": "rep", "org_unit_id": team.unit}],
        },
        headers=ADMIN,
    )
    assert put.status_code == 200, put.text
    version = await client.put(
        f"/plans/{plan}/versions/2026-01-01", json=worked_example_plan(team), headers=ADMIN
    )
    assert version.status_code == 200, version.text
    await publish(
        kafka_bootstrap,
        # Tracking's clock may run ahead of ours: D1 is stamped after the clawback
        # window, yet it was here when Q1 closed, so restating Q1 still counts it.
        team.credit(ann, "D1", "70000", date(2026, 2, 10), recorded_at=TRACKING_AHEAD),
        team.credit(ann, "D2", "50000", date(2026, 3, 5)),
    )

    async def statement() -> httpx.Response:
        return await client.get(f"/people/{ann}/statements/FY2026-Q1", headers=ADMIN)

    priced = await eventually(
        statement, lambda r: r.status_code == 200 and r.json()["revenue"] == "120000.00"
    )
    body = priced.json()
    assert [line["amount"] for line in body["lines"]] == ["5000.00", "1600.00"]
    # Money in the currency's minor units beside the quota it is measured against,
    # the attainment and every rate at one precision.
    assert (body["total"], body["quota"], body["attainment"]) == ("6600.00", "100000.00", "1.2000")
    for line in body["lines"]:
        assert re.fullmatch(r"-?\d+\.\d{2}", line["basis"]), line
        assert line["rate"] is None or re.fullmatch(r"\d+\.\d{4}", line["rate"]), line

    # Make sure the payout run sees the same figures, twice.
    first = (await client.post("/periods/FY2026-Q1/payout-run", headers=ADMIN)).json()
    again = (await client.post("/periods/FY2026-Q1/payout-run", headers=ADMIN)).json()
    assert first["digest"] == again["digest"] and again["changed"] == 0

    closed = await client.post("/periods/FY2026-Q1/close", headers=ADMIN)
    assert closed.status_code == 200, closed.text
    await publish(
        kafka_bootstrap,
        team.credit(
            ann, "D2", "-50000", date(2026, 3, 5), "reversed", datetime(2026, 5, 2, tzinfo=UTC)
        ),
    )

    async def q2() -> httpx.Response:
        return await client.get(f"/people/{ann}/statements/FY2026-Q2", headers=ADMIN)

    # Q2's statement exists before the reversal is consumed; wait for its clawback line.
    carried = await eventually(
        q2,
        lambda r: (
            r.status_code == 200 and any(line["kind"] == "clawback" for line in r.json()["lines"])
        ),
    )
    lines = carried.json()["lines"]
    clawback = [line for line in lines if line["kind"] == "clawback"]
    # 70,000 at 5% = 3,500 restated, 6,600 paid: because D2 was reversed.
    assert [line["amount"] for line in clawback] == ["-3100.00"]
    assert [
        (d["deal_id"], Decimal(d["amount"]), d["period_key"]) for d in clawback[0]["deals"]
    ] == [("D2", Decimal("-50000"), "FY2026-Q1")]
    assert clawback[0]["formula"].endswith("(deal D2 \u221250,000.00 from FY2026-Q1)")
    locked = (await statement()).json()
    assert locked["status"] == "closed" and locked["total"] == "6600.00"


async def test_each_change_publishes_the_statement_and_a_duplicate_credit_changes_nothing(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "200000"}, Q2)
    (ann,) = team.reps
    await team.ready(client, Q2)
    await put_plan(
        client,
        period="quarter",
        effective_from=Q2.start,
        components=[WORKED_TIERS],
        assignments=reps_of(team),
    )
    seen = [await statement_when(client, ann, "FY2026-Q2", lambda body: True)]

    won = team.credit(ann, unique("deal"), "150000", date(2026, 4, 10))
    second = unique("deal")
    more = team.credit(ann, second, "90000", date(2026, 5, 6))
    # The same ledger row again in a new envelope, then a change of that deal
    # on its partition behind it: once the change shows, the copy was handled.
    changed = team.credit(ann, second, "10000", date(2026, 5, 6), "amount_changed")
    for events, revenue in (([won], "150000"), ([more], "240000"), ([more, changed], "250000")):
        await publish(kafka_bootstrap, *events)
        seen.append(await statement_when(client, ann, "FY2026-Q2", revenue_is(revenue)))

    # 150,000 of 200,000 at 5%; then 200,000 at 5% + 40,000 at 8%; then + 50,000 at 8%.
    expected = [(1, "0.00"), (2, "7500.00"), (3, "13200.00"), (4, "14000.00")]
    assert [(body["version"], body["total"]) for body in seen] == expected
    updates = await published(
        kafka_bootstrap,
        EarningsUpdated,
        lambda event: event.statement_id == f"{ann}:FY2026-Q2",
        count=len(expected),
    )
    assert [(e.version, e.total.amount, e.total.currency) for e in updates] == [
        (version, Decimal(total), "CNY") for version, total in expected
    ]
    assert {e.person_id for e in updates} == {ann}


async def test_closing_publishes_every_statement_of_the_period_once(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "100000", "bob": "50000"}, FY2025)
    ann, bob = team.reps
    await team.ready(client, FY2025)
    await put_plan(
        client,
        period="year",
        effective_from=FY2025.start,
        components=[commission(("0", "1.0", "0.04"), ("1.0", None, "0.06"), method="retroactive")],
        assignments=reps_of(team),
    )
    await publish(
        kafka_bootstrap,
        team.credit(ann, unique("deal"), "80000", date(2025, 6, 10)),
        team.credit(bob, unique("deal"), "60000", date(2025, 9, 1)),
    )
    await statement_when(client, ann, "FY2025", revenue_is("80000"))
    await statement_when(client, bob, "FY2025", revenue_is("60000"))

    closed = await client.post("/periods/FY2025/close", headers=ADMIN)
    assert closed.status_code == 200, closed.text
    # ann at 80% earns 4% on all of it, bob at 120% 6% on all of it.
    assert closed.json()["statements"] == 2
    assert Decimal(closed.json()["total"]) == Decimal("3200.00") + Decimal("3600.00")
    again = await client.post("/periods/FY2025/close", headers=ADMIN)
    assert again.status_code == 409, again.text

    events = await published(
        kafka_bootstrap,
        StatementClosed,
        lambda event: event.period_key == "FY2025" and event.person_id in team.reps,
        count=2,
    )
    assert sorted((e.statement_id, e.total.amount) for e in events) == [
        (f"{ann}:FY2025", Decimal("3200.00")),
        (f"{bob}:FY2025", Decimal("3600.00")),
    ]
    for person in team.reps:
        locked = (await client.get(f"/people/{person}/statements/FY2025", headers=ADMIN)).json()
        assert locked["status"] == "closed" and locked["closed_at"] is not None


async def test_a_reversal_after_the_clawback_window_claws_nothing_back(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "20000", "bob": "20000"}, DECEMBER)
    ann, bob = team.reps
    await team.ready(client, DECEMBER)
    flat = commission(("0", None, "0.05"))
    # ann's window ends 30 days after December; bob's own plan keeps his open a year.
    for assignments, days in (reps_of(team), 30), ([{"person_id": bob}], 365):
        await put_plan(
            client,
            period="month",
            effective_from=DECEMBER.start,
            components=[flat],
            assignments=assignments,
            clawback_days=days,
        )
    split, won = unique("deal"), datetime(2025, 12, 15, tzinfo=UTC)
    await publish(
        kafka_bootstrap,
        team.credit(ann, split, "10000", won.date(), recorded_at=won),
        team.credit(bob, split, "10000", won.date(), recorded_at=won),
    )
    for person in (ann, bob):
        paid = await statement_when(client, person, "2025-12", revenue_is("10000"))
        assert paid["total"] == "500.00"
    closed = await client.post("/periods/2025-12/close", headers=ADMIN)
    assert closed.status_code == 200, closed.text

    # 110 days after December, and after the close. Both rows are on the
    # deal's partition, ann's first: when bob's clawback shows, hers was handled.
    late = datetime(2026, 4, 20, tzinfo=UTC)
    await publish(
        kafka_bootstrap,
        team.credit(ann, split, "-10000", won.date(), "reversed", late),
        team.credit(bob, split, "-10000", won.date(), "reversed", late),
    )
    his = await statement_when(client, bob, "2025-12", lambda body: bool(body["carried_out"]))
    assert [
        (a["kind"], a["target_period_key"], a["restated"], a["paid"], a["amount"])
        for a in his["carried_out"]
    ] == [("restated", "2026-01", "0.00", "500.00", "-500.00")]
    assert [(d["deal_id"], Decimal(d["amount"])) for d in his["carried_out"][0]["deals"]] == [
        (split, Decimal("-10000"))
    ]
    january = await statement_when(client, bob, "2026-01", lambda body: True)
    assert ("clawback", Decimal("-500.00")) in amounts(january)
    (clawback,) = [line for line in january["lines"] if line["kind"] == "clawback"]
    assert [(d["deal_id"], Decimal(d["amount"]), d["period_key"]) for d in clawback["deals"]] == [
        (split, Decimal("-10000"), "2025-12")
    ]

    # Her reversal came after her window: nothing is clawed back, and her next
    # open statement says so in a zero line naming the deal and the change.
    noted = await statement_when(
        client,
        ann,
        "2026-01",
        lambda body: any(line["kind"] == "late_correction" for line in body["lines"]),
    )
    (late,) = [line for line in noted["lines"] if line["kind"] == "late_correction"]
    assert Decimal(late["amount"]) == 0 and Decimal(noted["total"]) == 0
    assert [(d["deal_id"], Decimal(d["amount"]), d["period_key"]) for d in late["deals"]] == [
        (split, Decimal("-10000"), "2025-12")
    ]
    assert f"deal {split} \u221210,000.00" in late["formula"]
    assert "clawback window closed on 2026-01-30: not clawed back" in late["formula"]

    # Her closed statement reads as it was paid; the reversal shows only as the note it caused.
    hers = (await client.get(f"/people/{ann}/statements/2025-12", headers=ADMIN)).json()
    assert [(Decimal(d["amount"]), d["entries"]) for d in hers["deals"]] == [(Decimal(10000), 1)]
    assert [(a["kind"], a["target_period_key"], a["amount"]) for a in hers["carried_out"]] == [
        ("outside_window", "2026-01", "0.00")
    ]
    assert hers["status"] == "closed" and hers["total"] == "500.00"
    his_closed = (await client.get(f"/people/{bob}/statements/2025-12", headers=ADMIN)).json()
    assert [(Decimal(d["amount"]), d["entries"]) for d in his_closed["deals"]] == [
        (Decimal(10000), 1)
    ]


async def test_a_deal_credited_and_reversed_in_an_open_period_nets_to_nothing(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "100000"}, Q2)
    (ann,) = team.reps
    await team.ready(client, Q2)
    await put_plan(
        client,
        period="quarter",
        effective_from=Q2.start,
        components=[WORKED_TIERS],
        assignments=reps_of(team),
    )
    await publish(kafka_bootstrap, team.credit(ann, unique("deal"), "40000", date(2026, 4, 15)))
    before = await statement_when(client, ann, "FY2026-Q2", revenue_is("40000"))
    assert before["total"] == "2000.00"

    deal = unique("deal")
    await publish(kafka_bootstrap, team.credit(ann, deal, "30000", date(2026, 5, 10)))
    await statement_when(client, ann, "FY2026-Q2", lambda body: body["total"] == "3500.00")
    await publish(kafka_bootstrap, team.credit(ann, deal, "-30000", date(2026, 5, 20), "reversed"))
    after = await statement_when(client, ann, "FY2026-Q2", revenue_is("40000"))
    assert after["total"] == before["total"] == "2000.00"
    assert amounts(after) == amounts(before)
    reversed_deal = next(d for d in after["deals"] if d["deal_id"] == deal)
    assert Decimal(reversed_deal["amount"]) == 0 and reversed_deal["entries"] == 2
    assert after["version"] == before["version"] + 2


async def test_every_component_is_priced_at_its_edges(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "100000", "bob": "80000", "cat": "50000"}, Q2)
    ann, bob, cat = team.reps
    await publish(kafka_bootstrap, team.goal(None, "200000", Q2))
    await team.ready(client, Q2)
    await put_plan(
        client,
        period="quarter",
        effective_from=Q2.start,
        components=[
            WORKED_TIERS,
            {
                "kind": "attainment_bonus",
                "id": "attain",
                "target_incentive": "10000.00",
                "curve": [
                    {"attainment": "0.8", "payout": "0.5"},
                    {"attainment": "1.0", "payout": "1.0"},
                    {"attainment": "1.5", "payout": "2.0"},
                ],
                "gate": "0.8",
                "cap": "1.5",
            },
            {
                "kind": "threshold_bonus",
                "id": "kicker",
                "threshold": "1.0",
                "percent_of_commission": "0.10",
            },
            {
                "kind": "spiff",
                "id": "cloud",
                "product_line": "cloud",
                "rate": "0.02",
                "window_from": "2026-04-01",
                "window_to": "2026-05-01",
            },
            {
                "kind": "team_bonus",
                "id": "team",
                "pool": "999.99",
                "threshold": "1.0",
                "split": "contribution",
            },
        ],
        assignments=reps_of(team),
    )
    await publish(
        kafka_bootstrap,
        # ann: exactly 100% of quota, all of it cloud inside the SPIFF window.
        team.credit(ann, unique("deal"), "100000", date(2026, 4, 20), product_line="cloud"),
        # bob: exactly the 80% gate; cloud the day the window closes, hardware inside it.
        team.credit(bob, unique("deal"), "63000", date(2026, 5, 1), product_line="cloud"),
        team.credit(bob, unique("deal"), "1000", date(2026, 4, 10), product_line="hardware"),
        # cat: 72%, below the gate; cloud on the window's last day.
        team.credit(cat, unique("deal"), "36000", date(2026, 4, 30), product_line="cloud"),
    )
    # The team reaches its 200,000 only with everyone's deals, so a team bonus
    # line means the statement was priced after all of them.
    paid = {
        person: await statement_when(
            client,
            person,
            "FY2026-Q2",
            lambda body: any(line["kind"] == "team_bonus" for line in body["lines"]),
        )
        for person in team.reps
    }
    # The pool split 100,000 : 64,000 : 36,000 is 499.995, 319.9968 and
    # 179.9982; cut to cents that is 999.97, and the two cents left go to the
    # largest remainders (cat's, then bob's), not to ann by rounding half up.
    assert amounts(paid[ann]) == [
        ("commission", Decimal("5000.00")),
        ("attainment_bonus", Decimal("10000.00")),
        ("threshold_bonus", Decimal("500.00")),
        ("spiff", Decimal("2000.00")),
        ("team_bonus", Decimal("499.99")),
    ]
    assert amounts(paid[bob]) == [
        ("commission", Decimal("3200.00")),
        ("attainment_bonus", Decimal("5000.00")),
        ("team_bonus", Decimal("320.00")),
    ]
    assert amounts(paid[cat]) == [
        ("commission", Decimal("1800.00")),
        ("attainment_bonus", Decimal("0.00")),
        ("spiff", Decimal("720.00")),
        ("team_bonus", Decimal("180.00")),
    ]
    assert [paid[p]["total"] for p in team.reps] == ["17999.99", "8520.00", "2700.00"]
    shares = [
        Decimal(line["amount"])
        for body in paid.values()
        for line in body["lines"]
        if line["kind"] == "team_bonus"
    ]
    assert sum(shares) == Decimal("999.99")
    assert all(body["warnings"] == [] for body in paid.values())


async def test_a_what_if_estimate_prices_the_deals_without_keeping_them(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "100000"}, Q2)
    (ann,) = team.reps
    await team.ready(client, Q2)
    await put_plan(
        client,
        period="quarter",
        effective_from=Q2.start,
        components=[
            commission(("0", "0.5", "0.03"), ("0.5", "1.0", "0.05"), ("1.0", None, "0.08")),
            {"kind": "threshold_bonus", "id": "kicker", "threshold": "1.1", "amount": "1000.00"},
        ],
        assignments=reps_of(team),
    )
    await publish(kafka_bootstrap, team.credit(ann, unique("deal"), "30000", date(2026, 4, 10)))
    held = await statement_when(client, ann, "FY2026-Q2", revenue_is("30000"))
    assert held["total"] == "900.00"

    rep = bearer(Role.REP, person_id=ann)
    asked = await client.post(
        f"/people/{ann}/estimates",
        json={
            "period_key": "FY2026-Q2",
            "deals": [{"amount": "45000", "credited_on": "2026-05-15"}],
        },
        headers=rep,
    )
    assert asked.status_code == 200, asked.text
    estimate = asked.json()
    # 75,000: 50,000 at 3% + 25,000 at 5%; from there 25,000 more reaches the
    # 100% tier and 35,000 more the 110% bonus.
    assert Decimal(estimate["current_total"]) == Decimal("900.00")
    assert Decimal(estimate["estimated_total"]) == Decimal("2750.00")
    assert Decimal(estimate["difference"]) == Decimal("1850.00")
    assert Decimal(estimate["estimated_attainment"]) == Decimal("0.75")
    assert [
        (step["component_id"], step["kind"], Decimal(step["revenue_needed"]))
        for step in estimate["next_steps"]
    ] == [("base", "tier", Decimal("25000.00")), ("kicker", "threshold", Decimal("35000.00"))]
    assert estimate["next_steps"][0]["description"].startswith("25,000.00 more revenue")

    outside = await client.post(
        f"/people/{ann}/estimates",
        json={
            "period_key": "FY2026-Q2",
            "deals": [{"amount": "45000", "credited_on": "2026-07-01"}],
        },
        headers=rep,
    )
    assert outside.status_code == 422, outside.text
    assert outside.json()["field"] == "deals.0.credited_on"

    kept = (await client.get(f"/people/{ann}/statements/FY2026-Q2", headers=ADMIN)).json()
    assert (kept["version"], kept["total"]) == (held["version"], "900.00")


async def test_payroll_exports_one_row_per_statement_line(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "100000", "bob": "50000"}, Q2)
    ann, bob = team.reps
    await team.ready(client, Q2)
    await put_plan(
        client,
        period="quarter",
        effective_from=Q2.start,
        components=[
            WORKED_TIERS,
            {
                "kind": "spiff",
                "id": "services",
                "product_line": "svc",
                "amount": "300.00",
                "window_from": "2026-04-01",
                "window_to": "2026-07-01",
            },
        ],
        assignments=reps_of(team),
    )
    await publish(
        kafka_bootstrap,
        team.credit(ann, unique("deal"), "120000", date(2026, 4, 8), product_line="svc"),
        team.credit(bob, unique("deal"), "20000", date(2026, 4, 9)),
    )
    await statement_when(client, ann, "FY2026-Q2", revenue_is("120000"))
    await statement_when(client, bob, "FY2026-Q2", revenue_is("20000"))

    export = await client.get("/periods/FY2026-Q2/statements.csv", headers=ADMIN)
    assert export.status_code == 200, export.text
    assert export.headers["content-type"].startswith("text/csv")
    rows = [
        row for row in csv.DictReader(io.StringIO(export.text)) if row["person_id"] in team.reps
    ]
    by_person = {
        person: [
            (row["line"], row["kind"], row["amount"]) for row in rows if row["person_id"] == person
        ]
        for person in team.reps
    }
    # ann: 100,000 at 5% + 20,000 at 8% and one SPIFF; bob: 20,000 at 5%.
    assert by_person == {
        ann: [
            ("1", "commission", "5000.00"),
            ("2", "commission", "1600.00"),
            ("3", "spiff", "300.00"),
        ],
        bob: [("1", "commission", "1000.00")],
    }
    for person in team.reps:
        statement = (
            await client.get(f"/people/{person}/statements/FY2026-Q2", headers=ADMIN)
        ).json()
        assert len(by_person[person]) == len(statement["lines"])
        assert sum(Decimal(amount) for _, _, amount in by_person[person]) == Decimal(
            statement["total"]
        )
    assert {row["currency"] for row in rows} == {"CNY"}

    for someone in (bearer(Role.MANAGER, person_id=team.manager), bearer(Role.REP, person_id=ann)):
        denied = await client.get("/periods/FY2026-Q2/statements.csv", headers=someone)
        assert denied.status_code == 404, denied.text
        assert "text/csv" not in denied.headers["content-type"]


async def test_reps_see_themselves_and_managers_their_team(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "100000", "bob": "100000"}, Q2)
    ann, bob = team.reps
    neighbours = Team(kafka_bootstrap, root=team.root)
    await neighbours.create({"dan": "100000"}, Q2)
    await team.ready(client, Q2)
    await neighbours.ready(client, Q2)
    await put_plan(
        client,
        period="quarter",
        effective_from=Q2.start,
        components=[WORKED_TIERS],
        assignments=reps_of(team),
    )
    await publish(kafka_bootstrap, team.credit(ann, unique("deal"), "10000", date(2026, 4, 10)))
    await statement_when(client, ann, "FY2026-Q2", revenue_is("10000"))
    await statement_when(client, bob, "FY2026-Q2", lambda body: True)

    def reads(headers: dict[str, str]) -> Callable[[str], Awaitable[int]]:
        async def status(person: str) -> int:
            got = await client.get(f"/people/{person}/statements/FY2026-Q2", headers=headers)
            return got.status_code

        return status

    as_ann = reads(bearer(Role.REP, person_id=ann))
    assert (await as_ann(ann), await as_ann(bob)) == (200, 404)
    as_manager = reads(bearer(Role.MANAGER, person_id=team.manager))
    assert (await as_manager(ann), await as_manager(bob)) == (200, 200)
    as_other_manager = reads(bearer(Role.MANAGER, person_id=neighbours.manager))
    assert (await as_other_manager(ann), await as_other_manager(bob)) == (404, 404)

    listing = await client.get(f"/people/{bob}/statements", headers=bearer(Role.REP, person_id=ann))
    assert listing.status_code == 404
    own = await client.get(f"/people/{ann}/statements", headers=bearer(Role.REP, person_id=ann))
    assert [s["period_key"] for s in own.json()["data"]] == ["FY2026-Q2"]
