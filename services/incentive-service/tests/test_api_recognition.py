"""Recognition over HTTP against a real PostgreSQL and the real broker:
leaderboards rank by attainment, closing a quarter awards its badges once, and
a scorecard blends results, process and the manager's growth score.

Only the badge test closes a period (FY2026-Q1); the scorecard uses FY2026-Q2."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from attain_contracts import (
    ActualRecorded,
    BadgeAwarded,
    Envelope,
    GoalProgressUpdated,
    GoalUpserted,
    OrgUnitUpserted,
    Period,
    PersonUpserted,
)
from attain_contracts.types import Membership
from attain_devstack.testing import bearer, publish
from servicekit.auth import Role

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN)
WAIT_SECONDS = 20
NOW = datetime(2026, 4, 5, tzinfo=UTC)  # the service's clock: conftest.SERVICE_NOW
Q1 = Period(key="FY2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31))
Q2 = Period(key="FY2026-Q2", start=date(2026, 4, 1), end=date(2026, 6, 30))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


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


class Company:
    """A company of one team: its manager, and reps with quotas and credited revenue."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.root, self.unit = unique("co"), unique("team")
        self.manager = unique("mgr")
        self.reps: list[str] = []

    async def create(self, period: Period, quotas: dict[str, str], sold: dict[str, str]) -> None:
        """The org, a revenue goal per rep, and one deal each credited in the period."""
        now = datetime.now(UTC)
        events: list[Any] = [
            OrgUnitUpserted(
                org_unit_id=unit,
                name=unit,
                kind=kind,
                parent_id=parent,
                manager_id=manager,
                path=path,
                version=1,
                updated_at=now,
            )
            for unit, kind, parent, manager, path in (
                (self.root, "company", None, None, [self.root]),
                (self.unit, "team", self.root, self.manager, [self.root, self.unit]),
            )
        ]
        for name, target in quotas.items():
            person = f"{name}-{self.unit}"
            self.reps.append(person)
            events.append(self._person(person))
            events.append(self.goal(person, "revenue", target, period))
            events.append(self._credit(person, sold[name], period.start))
        events.append(self._person(self.manager))
        await publish(self.bootstrap, *events)

    def _person(self, person_id: str) -> PersonUpserted:
        return PersonUpserted(
            person_id=person_id,
            name=person_id,
            maturity="experienced",
            memberships=[Membership(org_unit_id=self.unit, valid_from=date(2025, 1, 1))],
            version=1,
            updated_at=datetime.now(UTC),
        )

    def goal(self, person_id: str, metric: str, target: str, period: Period) -> GoalUpserted:
        return GoalUpserted(
            goal_id=f"g-{person_id}-{metric}-{period.key}",
            parent_id=None,
            metric=metric,
            direction="higher_is_better",
            org_unit_id=self.unit,
            person_id=person_id,
            owner_id=person_id,
            period=period,
            timezone="UTC",
            target=Decimal(target),
            currency="CNY" if metric == "revenue" else None,
            status="active",
            method="manual",
            version=1,
            updated_at=datetime.now(UTC),
        )

    def progress(self, goal: GoalUpserted, actual: str) -> GoalProgressUpdated:
        return GoalProgressUpdated(
            goal_id=goal.goal_id,
            owner_id=goal.owner_id,
            metric=goal.metric,
            direction=goal.direction,
            period=goal.period,
            as_of=NOW,
            actual=Decimal(actual),
            target=goal.target,
            attainment=Decimal(actual) / goal.target,
            expected_to_date=Decimal(0),
            pace=None,
            projection=Decimal(actual),
            sequence=1,
            org_unit_id=goal.org_unit_id,
            person_id=goal.person_id,
        )

    def _credit(self, person: str, amount: str, on: date) -> ActualRecorded:
        return ActualRecorded(
            entry_id=unique("entry"),
            deal_id=unique("deal"),
            source="crm",
            metric="revenue",
            person_id=person,
            org_path=[self.root, self.unit],
            credited_on=on,
            amount=Decimal(amount),
            currency="CNY",
            reason="won",
            deal_version=1,
            recorded_at=NOW,
        )

    async def board(self, client: httpx.AsyncClient, period: Period) -> list[dict[str, Any]]:
        """The team's leaderboard once its manager and every rep's quota and deal are in."""

        async def probe() -> httpx.Response:
            return await client.get(
                f"/org-units/{self.unit}/leaderboard", params={"period": period.key}, headers=ADMIN
            )

        def complete(response: httpx.Response) -> bool:
            rows = response.json()["data"] if response.status_code == 200 else []
            selling = {row["person_id"] for row in rows if row["target"] and Decimal(row["actual"])}
            everyone = {row["person_id"] for row in rows}
            return selling == set(self.reps) and everyone == {*self.reps, self.manager}

        found = await eventually(probe, complete)
        rows: list[dict[str, Any]] = found.json()["data"]
        return rows


async def test_the_leaderboard_ranks_by_attainment_and_ties_share_a_rank(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    company = Company(kafka_bootstrap)
    await company.create(
        Q1,
        quotas={"ann": "50000", "bob": "200000", "cat": "100000"},
        sold={"ann": "60000", "bob": "150000", "cat": "120000"},
    )
    ann, bob, cat = company.reps
    board = await company.board(client, Q1)
    # ann sold least on the smallest quota, but her 120% beats bob's 75%; she
    # ties with cat's 120%, listed after cat's larger amount. The manager has
    # no quota to rank by.
    assert [(row["person_id"], row["rank"]) for row in board] == [
        (cat, 1),
        (ann, 1),
        (bob, 3),
        (company.manager, None),
    ]
    assert [Decimal(row["attainment"]) for row in board[:3]] == [
        Decimal("1.2"),
        Decimal("1.2"),
        Decimal("0.75"),
    ]
    as_rep = await client.get(
        f"/org-units/{company.unit}/leaderboard",
        params={"period": "FY2026-Q1"},
        headers=bearer(Role.REP, person_id=bob),
    )
    assert [row["person_id"] for row in as_rep.json()["data"]] == [
        row["person_id"] for row in board
    ]


async def test_closing_a_quarter_awards_its_badges_once(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    company = Company(kafka_bootstrap)
    await company.create(
        Q1,
        quotas={"ann": "100000", "bob": "50000", "cat": "100000"},
        sold={"ann": "100000", "bob": "60000", "cat": "40000"},
    )
    ann, bob, cat = company.reps
    await company.board(client, Q1)

    closed = await client.post("/periods/FY2026-Q1/close", headers=ADMIN)
    assert closed.status_code == 200, closed.text
    again = await client.post("/periods/FY2026-Q1/close", headers=ADMIN)
    assert again.status_code == 409, again.text

    async def badges(person: str) -> list[tuple[str, str]]:
        held = (await client.get(f"/people/{person}/badges", headers=ADMIN)).json()["data"]
        return [(badge["badge"], badge["period_key"]) for badge in held]

    # bob's 120% is first; ann's exactly 100% is in the club; cat's 40% nowhere.
    assert await badges(bob) == [("club_100", "FY2026-Q1"), ("quarterly_champion", "FY2026-Q1")]
    assert await badges(ann) == [("club_100", "FY2026-Q1")]
    assert await badges(cat) == []
    champion = (await client.get(f"/people/{bob}/badges", headers=ADMIN)).json()["data"][1]
    assert champion["reason"] == "first with 120.0% of quota in FY2026-Q1"

    awarded = await published_badges(kafka_bootstrap, set(company.reps), count=3)
    assert sorted((event.person_id, event.badge) for event in awarded) == [
        (ann, "club_100"),
        (bob, "club_100"),
        (bob, "quarterly_champion"),
    ]
    assert {event.badge_id for event in awarded} == {
        f"club_100:{ann}:FY2026-Q1",
        f"club_100:{bob}:FY2026-Q1",
        f"quarterly_champion:{bob}:FY2026-Q1",
    }


async def published_badges(bootstrap: str, people: set[str], count: int) -> list[BadgeAwarded]:
    """The BadgeAwarded events for `people`, read from the start of the topic until
    `count` were found and for a second more, which would show one awarded twice."""
    consumer = AIOKafkaConsumer(
        BadgeAwarded.topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[BadgeAwarded] = []

    async def read(ms: int) -> None:
        for records in (await consumer.getmany(timeout_ms=ms)).values():
            for record in records:
                assert record.value is not None
                envelope = Envelope.from_bytes(record.value)
                if envelope.type == BadgeAwarded.type:
                    event = envelope.event()
                    assert isinstance(event, BadgeAwarded)
                    if event.person_id in people:
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


async def test_a_scorecard_blends_results_process_and_growth(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    company = Company(kafka_bootstrap)
    await company.create(Q2, quotas={"ann": "100000"}, sold={"ann": "80000"})
    (ann,) = company.reps
    calls = company.goal(ann, "activities", "40", Q2)
    await publish(kafka_bootstrap, calls, company.progress(calls, "30"))
    await company.board(client, Q2)
    url = f"/people/{ann}/scorecards/FY2026-Q2"

    def parts(body: dict[str, Any]) -> dict[str, str | None]:
        return {part["name"]: part["score"] for part in body["parts"]}

    async def card() -> httpx.Response:
        return await client.get(url, headers=ADMIN)

    # Until the goals' progress and the credit are consumed, results and process score 0.00.
    before = await eventually(
        card,
        lambda r: (
            r.status_code == 200
            and all(parts(r.json())[name] not in (None, "0.00") for name in ("results", "process"))
        ),
    )
    # Results 80% and process 30 of 40; without growth its 10% is shared out:
    # (0.6 x 80 + 0.3 x 75) / 0.9 = 78.333...
    assert parts(before.json()) == {"results": "80.00", "process": "75.00", "growth": None}
    assert before.json()["score"] == "78.33"

    growth = {"score": "90", "note": "took on the new territory"}
    themself = await client.put(
        f"{url}/growth", json=growth, headers=bearer(Role.REP, person_id=ann)
    )
    assert themself.status_code == 404, themself.text
    boss = bearer(Role.MANAGER, person_id=company.manager)
    own = await client.put(
        f"/people/{company.manager}/scorecards/FY2026-Q2/growth", json=growth, headers=boss
    )
    assert own.status_code == 404, own.text
    judged = await client.put(f"{url}/growth", json=growth, headers=boss)
    assert judged.status_code == 200, judged.text
    # 0.6 x 80 + 0.3 x 75 + 0.1 x 90.
    assert judged.json()["score"] == "79.50"
    assert [(p["name"], p["weight"], p["applied_weight"]) for p in judged.json()["parts"]] == [
        ("results", "0.6000", "0.6000"),
        ("process", "0.3000", "0.3000"),
        ("growth", "0.1000", "0.1000"),
    ]
    assert judged.json()["weights_from"] is None

    weights = f"/org-units/{company.unit}/scorecard-weights"
    short = await client.put(
        weights, json={"results": "0.5", "process": "0.3", "growth": "0.1"}, headers=ADMIN
    )
    assert short.status_code == 422, short.text
    assert short.json()["field"] == "weights"
    even = await client.put(
        weights, json={"results": "0.5", "process": "0.25", "growth": "0.25"}, headers=ADMIN
    )
    assert even.status_code == 200, even.text
    reweighted = (await card()).json()
    # 0.5 x 80 + 0.25 x 75 + 0.25 x 90.
    assert (reweighted["score"], reweighted["weights_from"]) == ("81.25", company.unit)


async def test_a_plan_for_one_person_is_read_by_them_and_the_managers_above_them(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    """A plan assigned to one rep (their terms, their target incentive) was readable
    by every rep."""
    ours, theirs = Company(kafka_bootstrap), Company(kafka_bootstrap)
    await ours.create(Q2, {"ann": "1000", "bob": "1000"}, {"ann": "10", "bob": "10"})
    await theirs.create(Q2, {"cy": "1000"}, {"cy": "10"})
    ann, bob = ours.reps
    plan = unique("plan")
    put = await client.put(
        f"/plans/{plan}",
        json={
            "name": "Ann's",
            "period": "quarter",
            "currency": "CNY",
            "assignments": [{"person_id": ann}],
        },
        headers=ADMIN,
    )
    assert put.status_code == 200, put.text
    manager = bearer(Role.MANAGER, person_id=ours.manager)
    await eventually(
        lambda: client.get(f"/plans/{plan}", headers=manager), lambda r: r.status_code == 200
    )
    await eventually(
        lambda: client.get(
            f"/people/{theirs.reps[0]}/badges",
            headers=bearer(Role.MANAGER, person_id=theirs.manager),
        ),
        lambda r: r.status_code == 200,
    )
    for headers, seen in (
        (bearer(Role.REP, person_id=ann), True),
        (manager, True),
        (bearer(Role.VIEWER, person_id="viewer-1"), True),
        (bearer(Role.PLANNER, person_id="planner-1"), True),
        (bearer(Role.REP, person_id=bob), False),
        (bearer(Role.MANAGER, person_id=theirs.manager), False),
        (bearer(Role.REP, person_id=theirs.reps[0]), False),
    ):
        one = await client.get(f"/plans/{plan}", headers=headers)
        assert one.status_code == (200 if seen else 404), headers
        listed = (await client.get("/plans", params={"limit": 1000}, headers=headers)).json()
        assert (plan in [p["id"] for p in listed["data"]]) == seen, headers
