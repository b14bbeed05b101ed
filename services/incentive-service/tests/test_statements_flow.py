"""incentive-service against a real PostgreSQL and the real broker: goal-service's
org, people and goals and tracking's ledger in; statements priced by a plan,
closed, corrected by clawbacks, and published."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest

from attain_contracts import (
    ActualRecorded,
    GoalUpserted,
    OrgUnitUpserted,
    Period,
    PersonUpserted,
)
from attain_contracts.types import Membership
from attain_devstack.testing import TEST_SECRET, bearer, migrate, publish, running
from incentive_service.main import create_app
from incentive_service.settings import IncentiveSettings
from servicekit.auth import Role
from servicekit.clock import FixedClock

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN)
WAIT_SECONDS = 20
# Q1 closes on this day; corrections are recorded after it.
NOW = datetime(2026, 4, 5, tzinfo=UTC)
Q1 = Period(key="FY2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


@pytest.fixture(scope="module")
async def client(module_database: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    await migrate("incentive_service", module_database)
    settings = IncentiveSettings(
        database_url=module_database,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,
        outbox_poll_seconds=0.2,
    )
    async with running(create_app(settings, clock=FixedClock(NOW))) as client:
        yield client


class Team:
    """A company with one team and its manager, reps with quarterly quotas."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.root, self.unit = unique("co"), unique("team")
        self.manager = unique("mgr")
        self.reps: list[str] = []

    async def create(self, quotas: dict[str, str]) -> None:
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
            events.append(self._goal(person, target))
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

    def _goal(self, person_id: str, target: str) -> GoalUpserted:
        return GoalUpserted(
            goal_id=f"g-{person_id}-Q1",
            parent_id=None,
            metric="revenue",
            direction="higher_is_better",
            org_unit_id=self.unit,
            person_id=person_id,
            owner_id=person_id,
            period=Q1,
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
    ) -> ActualRecorded:
        return ActualRecorded(
            entry_id=unique("entry"),
            deal_id=deal,
            source="crm",
            metric="revenue",
            person_id=person,
            org_path=[self.root, self.unit],
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
        team.credit(ann, "D1", "70000", date(2026, 2, 10)),
        team.credit(ann, "D2", "50000", date(2026, 3, 5)),
    )

    async def statement() -> httpx.Response:
        return await client.get(f"/people/{ann}/statements/FY2026-Q1", headers=ADMIN)

    priced = await eventually(
        statement, lambda r: r.status_code == 200 and r.json()["revenue"] == "120000"
    )
    body = priced.json()
    assert [line["amount"] for line in body["lines"]] == ["5000.00", "1600.00"]
    assert Decimal(body["total"]) == Decimal("6600.00")

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

    carried = await eventually(q2, lambda r: r.status_code == 200)
    lines = carried.json()["lines"]
    clawback = [line for line in lines if line["kind"] == "clawback"]
    # 70,000 at 5% = 3,500 restated, 6,600 paid.
    assert [line["amount"] for line in clawback] == ["-3100.00"]
    locked = (await statement()).json()
    assert locked["status"] == "closed" and locked["total"] == "6600.00"
