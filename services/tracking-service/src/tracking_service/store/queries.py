"""Reads and writes of tracking-service's tables."""

from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from tracking_service.store.tables import Deal, Goal, LedgerEntry, Membership, OrgUnit, Source


async def source(session: AsyncSession, source_id: str) -> Source | None:
    return await session.get(Source, source_id)


async def lock_deal(session: AsyncSession, source_id: str, deal_id: str) -> Deal | None:
    """The deal's row, locked until the transaction ends, so concurrent deliveries
    of the same deal apply one after the other."""
    rows = await session.execute(
        select(Deal).where(Deal.source_id == source_id, Deal.deal_id == deal_id).with_for_update()
    )
    return rows.scalars().first()


async def insert_deal_if_new(session: AsyncSession, deal: Deal) -> bool:
    """False when a concurrent delivery inserted the deal first."""
    values = deal.model_dump()
    inserted = await session.execute(
        insert(Deal).values(**values).on_conflict_do_nothing().returning(col(Deal.deal_id))
    )
    return inserted.first() is not None


async def org_path_on(session: AsyncSession, person_id: str, day: date) -> list[str]:
    """The org units a person's credit on `day` rolls up to, root first."""
    rows = await session.execute(
        select(OrgUnit.path)
        .join(Membership, col(Membership.org_unit_id) == col(OrgUnit.id))
        .where(
            Membership.person_id == person_id,
            col(Membership.valid_from) <= day,
            or_(col(Membership.valid_to).is_(None), col(Membership.valid_to) > day),
        )
        .limit(1)
    )
    path = rows.scalars().first()
    return list(path) if path else []


async def goal(session: AsyncSession, goal_id: str) -> Goal | None:
    return await session.get(Goal, goal_id)


async def goal_actual(session: AsyncSession, goal: Goal, until: date | None = None) -> Decimal:
    """The sum of the ledger rows in the goal's metric, scope and period
    (credited up to `until`, when given)."""
    scope = (
        col(LedgerEntry.person_id) == goal.person_id
        if goal.person_id is not None
        else col(LedgerEntry.org_path).contains([goal.org_unit_id])
    )
    conditions: list[ColumnElement[bool]] = [
        col(LedgerEntry.metric) == goal.metric,
        col(LedgerEntry.credited_on) >= goal.period_start,
        col(LedgerEntry.credited_on) <= min(goal.period_end, until or goal.period_end),
        scope,
    ]
    if goal.product_line is not None:
        conditions.append(col(LedgerEntry.product_line) == goal.product_line)
    total = await session.scalar(
        sa_select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(*conditions)
    )
    assert total is not None, "COALESCE(SUM(...), 0) is never NULL"
    return Decimal(total)


async def goals_matching(
    session: AsyncSession,
    metric: str,
    person_id: str,
    org_path: list[str],
    credited_on: date,
    product_line: str | None,
) -> list[Goal]:
    """Active goals whose progress a ledger row with these attributes changes."""
    rows = await session.execute(
        select(Goal).where(
            Goal.metric == metric,
            Goal.status == "active",
            col(Goal.period_start) <= credited_on,
            col(Goal.period_end) >= credited_on,
            or_(col(Goal.product_line).is_(None), col(Goal.product_line) == product_line),
            or_(
                col(Goal.person_id) == person_id,
                and_(col(Goal.person_id).is_(None), col(Goal.org_unit_id).in_(org_path)),
            ),
        )
    )
    return list(rows.scalars())


async def replace_memberships(
    session: AsyncSession, person_id: str, version: int, memberships: list[Membership]
) -> bool:
    """Keep the person's membership history from the newest `PersonUpserted` only."""
    current = await session.scalar(
        select(func.max(Membership.person_version)).where(Membership.person_id == person_id)
    )
    if current is not None and current >= version:
        return False
    for old in (
        await session.execute(select(Membership).where(Membership.person_id == person_id))
    ).scalars():
        await session.delete(old)
    await session.flush()
    session.add_all(memberships)
    return True
