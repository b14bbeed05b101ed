"""The fiscal periods incentive-service names follow the organisation's calendar
as goal-service's `CalendarUpdated` last said (its own setting before): with the
fiscal year starting in April, FY2026-Q1 is April to June."""

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest

from attain_contracts import ActualRecorded, CalendarUpdated, OrgUnitUpserted, PersonUpserted
from attain_contracts.types import Membership
from attain_devstack.testing import bearer, calendar_version, publish
from servicekit.auth import Role

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN)


async def test_fiscal_quarters_follow_the_calendar_event(
    client: httpx.AsyncClient, kafka_bootstrap: str, changes_the_calendar: None
) -> None:
    tag = uuid4().hex[:8]
    unit, rep, now = f"team-{tag}", f"rep-{tag}", datetime.now(UTC)
    await publish(
        kafka_bootstrap,
        OrgUnitUpserted(
            org_unit_id=unit,
            name=unit,
            kind="team",
            parent_id=None,
            manager_id=None,
            path=[unit],
            version=1,
            updated_at=now,
        ),
        PersonUpserted(
            person_id=rep,
            name=rep,
            maturity="experienced",
            memberships=[Membership(org_unit_id=unit, valid_from=date(2025, 1, 1))],
            version=1,
            updated_at=now,
        ),
        ActualRecorded(
            entry_id=f"entry-{tag}",
            deal_id=f"deal-{tag}",
            source="crm",
            metric="revenue",
            person_id=rep,
            org_path=[unit],
            credited_on=date(2026, 5, 10),
            amount=Decimal(5000),
            currency="CNY",
            reason="won",
            deal_version=1,
            recorded_at=now,
        ),
    )

    async def q1_actual() -> Decimal | None:
        response = await client.get(
            f"/org-units/{unit}/leaderboard", params={"period": "FY2026-Q1"}, headers=ADMIN
        )
        rows = response.json()["data"] if response.status_code == 200 else []
        return next((Decimal(row["actual"]) for row in rows if row["person_id"] == rep), None)

    async def until(amount: Decimal) -> None:
        async with asyncio.timeout(30):
            while True:
                if await q1_actual() == amount:
                    return
                await asyncio.sleep(0.2)

    # Fiscal years start in January by our settings: a credit of May is in Q2.
    await until(Decimal(0))
    await publish(
        kafka_bootstrap,
        CalendarUpdated(
            timezone="Asia/Shanghai",
            fiscal_year_start_month=4,
            holidays=[],
            version=calendar_version(),
            updated_at=now,
        ),
    )
    await until(Decimal(5000))
