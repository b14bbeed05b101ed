"""incentive-service against a real PostgreSQL and the real broker: what a
correction of a closed period says and where, who of a team shares its bonus,
closing a period early, and what a change of an org unit's manager prices again.

The tests share one database and app (this module's own), so each uses its own
org and plans; FY2026-Q1 is closed by the correction tests, FY2026 by the early
close; the others price the open quarter FY2026-Q2."""

import asyncio
from collections.abc import Awaitable, Callable
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
from attain_devstack.testing import bearer, publish
from servicekit.auth import Role

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN)
WAIT_SECONDS = 20
NOW = datetime(2026, 4, 5, tzinfo=UTC)  # the service's clock: conftest.SERVICE_NOW
Q1 = Period(key="FY2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31))
Q2 = Period(key="FY2026-Q2", start=date(2026, 4, 1), end=date(2026, 6, 30))
FY2026 = Period(key="FY2026", start=date(2026, 1, 1), end=date(2026, 12, 31))
FLAT = {
    "kind": "commission",
    "id": "base",
    "method": "marginal",
    "tiers": [{"floor": "0", "ceiling": None, "rate": "0.05"}],
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


class Team:
    """A company with one team, its manager (a member of the team) and reps."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.root, self.unit = unique("co"), unique("team")
        self.manager = unique("mgr")
        self.reps: list[str] = []
        self.versions: dict[str, int] = {}

    def unit_event(self, manager_id: str | None, version: int) -> OrgUnitUpserted:
        return OrgUnitUpserted(
            org_unit_id=self.unit,
            name="Team",
            kind="team",
            parent_id=self.root,
            manager_id=manager_id,
            path=[self.root, self.unit],
            version=version,
            updated_at=datetime.now(UTC),
        )

    async def create(self, quotas: dict[str, str], period: Period, **person: Any) -> None:
        events: list[Any] = [
            OrgUnitUpserted(
                org_unit_id=self.root,
                name="Co",
                kind="company",
                parent_id=None,
                manager_id=None,
                path=[self.root],
                version=1,
                updated_at=datetime.now(UTC),
            ),
            self.unit_event(self.manager, 1),
        ]
        for name, target in quotas.items():
            rep = f"{name}-{self.unit}"
            self.reps.append(rep)
            events += [self.person(rep), self.goal(rep, target, period)]
        events.append(self.person(self.manager, **person))
        await publish(self.bootstrap, *events)

    def person(self, person_id: str, **more: Any) -> PersonUpserted:
        self.versions[person_id] = self.versions.get(person_id, 0) + 1
        return PersonUpserted(
            person_id=person_id,
            name=person_id,
            maturity="experienced",
            memberships=[Membership(org_unit_id=self.unit, valid_from=date(2025, 1, 1))],
            version=self.versions[person_id],
            updated_at=datetime.now(UTC),
            **more,
        )

    def goal(self, person_id: str | None, target: str, period: Period) -> GoalUpserted:
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
    ) -> ActualRecorded:
        return ActualRecorded(
            entry_id=unique("entry"),
            deal_id=deal,
            source="crm",
            metric="revenue",
            person_id=person,
            org_path=[self.root, self.unit],
            product_line=None,
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


async def statement_when(
    client: httpx.AsyncClient, person: str, period_key: str, until: Callable[[Any], bool]
) -> dict[str, Any]:
    async def probe() -> httpx.Response:
        return await client.get(f"/people/{person}/statements/{period_key}", headers=ADMIN)

    found = await eventually(probe, lambda r: r.status_code == 200 and until(r.json()))
    body: dict[str, Any] = found.json()
    return body


def revenue_is(amount: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: Decimal(body["revenue"]) == Decimal(amount)


# Item 20: closing early, and a new manager


async def test_a_period_that_has_not_ended_closes_only_when_forced(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "100000"}, FY2026)
    (ann,) = team.reps
    await put_plan(
        client,
        period="year",
        effective_from=FY2026.start,
        components=[FLAT],
        assignments=[{"role": "rep", "org_unit_id": team.unit}],
    )
    await publish(kafka_bootstrap, team.credit(ann, unique("deal"), "10000", date(2026, 3, 1)))
    await statement_when(client, ann, "FY2026", revenue_is("10000"))

    # The clock is on 2026-04-05: FY2026 runs until 2026-12-31.
    refused = await client.post("/periods/FY2026/close", headers=ADMIN)
    assert refused.status_code == 409, refused.text
    assert refused.json()["field"] == "force"
    assert "2026-12-31" in refused.text
    still = (await client.get(f"/people/{ann}/statements/FY2026", headers=ADMIN)).json()
    assert still["status"] == "open"

    forced = await client.post("/periods/FY2026/close", params={"force": "true"}, headers=ADMIN)
    assert forced.status_code == 200, forced.text
    closed = (await client.get(f"/people/{ann}/statements/FY2026", headers=ADMIN)).json()
    assert (closed["status"], closed["total"]) == ("closed", "500.00")


async def test_a_unit_s_new_manager_has_their_statements_priced_again(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "100000", "bob": "100000"}, Q2)
    ann, bob = team.reps
    # A plan for the team's reps, none for its manager.
    await put_plan(
        client,
        period="quarter",
        effective_from=Q2.start,
        components=[FLAT],
        assignments=[{"role": "rep", "org_unit_id": team.unit}],
    )
    await publish(
        kafka_bootstrap,
        team.credit(ann, unique("deal"), "10000", date(2026, 4, 2)),
        team.credit(bob, unique("deal"), "20000", date(2026, 4, 3)),
    )
    paid = await statement_when(client, ann, "FY2026-Q2", revenue_is("10000"))
    assert (paid["plan_id"] is not None, paid["total"]) == (True, "500.00")
    await statement_when(client, bob, "FY2026-Q2", revenue_is("20000"))

    # ann now manages the team: the reps' plan no longer applies to her.
    await publish(kafka_bootstrap, team.unit_event(ann, 2))
    repriced = await statement_when(client, ann, "FY2026-Q2", lambda b: b["plan_id"] is None)
    assert repriced["total"] == "0.00"
    assert repriced["warnings"] == ["no plan applies to this period"]
    his = (await client.get(f"/people/{bob}/statements/FY2026-Q2", headers=ADMIN)).json()
    assert his["total"] == "1000.00"
    # The manager before her is a rep of the team again, under its plan.
    former = await statement_when(client, team.manager, "FY2026-Q2", lambda b: True)
    assert former["plan_id"] == paid["plan_id"] and former["total"] == "0.00"


# Item 17: a team bonus is shared by the people who carry a quota


async def test_a_manager_in_their_own_team_shares_its_bonus_only_when_marked(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    team = Team(kafka_bootstrap)
    await team.create({"ann": "60000", "bob": "40000"}, Q2)
    ann, bob = team.reps
    manager = team.manager
    await publish(kafka_bootstrap, team.goal(None, "100000", Q2))
    await put_plan(
        client,
        period="quarter",
        effective_from=Q2.start,
        components=[
            {
                "kind": "team_bonus",
                "id": "team",
                "pool": "900.00",
                "threshold": "1.0",
                "split": "equal",
            },
        ],
        assignments=[
            {"role": "rep", "org_unit_id": team.unit},
            {"role": "manager", "org_unit_id": team.unit},
        ],
    )
    await publish(
        kafka_bootstrap,
        team.credit(ann, unique("deal"), "60000", date(2026, 4, 10)),
        team.credit(bob, unique("deal"), "40000", date(2026, 4, 11)),
    )

    def share(body: dict[str, Any]) -> Decimal | None:
        found = [Decimal(line["amount"]) for line in body["lines"] if line["kind"] == "team_bonus"]
        return found[0] if found else None

    # The team reached its goal: the pool goes to the two reps, not to their manager.
    for rep in (ann, bob):
        paid = await statement_when(client, rep, "FY2026-Q2", lambda b: share(b) is not None)
        assert share(paid) == Decimal("450.00")
        assert "split equally among 2" in paid["lines"][0]["formula"]
    his = await statement_when(client, manager, "FY2026-Q2", lambda b: bool(b["warnings"]))
    assert share(his) is None and his["total"] == "0.00"
    assert his["warnings"] == [
        f"{manager} carries no quota in team {team.unit}: team bonus team is not paid to them"
    ]

    # Marked as carrying a quota, the manager shares it, and the reps' shares are priced again.
    await publish(kafka_bootstrap, team.person(manager, carries_quota=True))
    marked = await statement_when(client, manager, "FY2026-Q2", lambda b: share(b) is not None)
    assert share(marked) == Decimal("300.00")
    for rep in (ann, bob):
        again = await statement_when(
            client, rep, "FY2026-Q2", lambda b: share(b) == Decimal("300.00")
        )
        assert again["total"] == "300.00"
