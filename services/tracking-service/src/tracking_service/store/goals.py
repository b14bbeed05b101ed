"""Reads and writes of tracking-service's goals, sources and directory copies."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, case, exists, false, func, literal, or_
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from attain_contracts.progress import ChildTarget, formula
from tracking_service.store.tables import (
    CrmRecord,
    Goal,
    LedgerEntry,
    Membership,
    OrgUnit,
    ProjectionQueue,
    RecordVersion,
    Source,
)

WIN_RATE_LOOKBACK = timedelta(days=365)


async def source(session: AsyncSession, source_id: str) -> Source | None:
    return await session.get(Source, source_id)


async def sources(session: AsyncSession) -> list[Source]:
    rows = await session.execute(select(Source).order_by(col(Source.id)))
    return list(rows.scalars())


async def parked_records(session: AsyncSession, limit: int) -> list[CrmRecord]:
    """The records waiting for an FX rate, the longest-waiting rate first."""
    rows = await session.execute(
        select(CrmRecord)
        .where(col(CrmRecord.parked_reason).is_not(None))
        .order_by(
            col(CrmRecord.parked_on),
            col(CrmRecord.parked_currency),
            col(CrmRecord.source_id),
            col(CrmRecord.kind),
            col(CrmRecord.record_id),
        )
        .limit(limit)
    )
    return list(rows.scalars())


async def goal(session: AsyncSession, goal_id: str) -> Goal | None:
    return await session.get(Goal, goal_id)


async def goals(session: AsyncSession, goal_ids: Sequence[str]) -> list[Goal]:
    if not goal_ids:
        return []
    rows = await session.execute(
        select(Goal).where(col(Goal.id).in_(goal_ids)).order_by(col(Goal.id))
    )
    return list(rows.scalars())


async def child_targets(
    session: AsyncSession, parent_ids: Sequence[str]
) -> dict[str, list[ChildTarget]]:
    """The targets of each goal's children in the same metric: its time split."""
    if not parent_ids:
        return {}
    parent = Goal.__table__.alias("parent")  # type: ignore[attr-defined]
    rows = await session.execute(
        sa_select(
            col(Goal.parent_id), col(Goal.period_start), col(Goal.period_end), col(Goal.target)
        )
        .join(parent, parent.c.id == col(Goal.parent_id))
        .where(
            col(Goal.parent_id).in_(parent_ids),
            col(Goal.metric) == parent.c.metric,
            col(Goal.status) != "cancelled",
        )
    )
    children: dict[str, list[ChildTarget]] = defaultdict(list)
    for parent_id, start, end, target in rows.all():
        children[str(parent_id)].append(ChildTarget(start, end, target))
    return children


def _scope(goal: Goal) -> ColumnElement[bool]:
    if goal.person_id is not None:
        return col(LedgerEntry.person_id) == goal.person_id
    return col(LedgerEntry.org_path).contains([goal.org_unit_id])


def _matching_rows(
    goal: Goal, metrics: Sequence[str], start: date, end: date
) -> list[ColumnElement[bool]]:
    conditions = [
        col(LedgerEntry.metric).in_(metrics),
        col(LedgerEntry.credited_on) >= start,
        col(LedgerEntry.credited_on) <= end,
        _scope(goal),
    ]
    if goal.product_line is not None:
        conditions.append(col(LedgerEntry.product_line) == goal.product_line)
    return conditions


async def ledger_figures(
    session: AsyncSession, goal: Goal, until: date | None = None, projected_only: bool = False
) -> tuple[Decimal, Decimal]:
    """The goal's numerator and denominator summed from the ledger (credited up to
    `until`; only rows the projector has folded, when `projected_only`)."""
    f = formula(goal.metric)
    end = goal.period_end if until is None else min(goal.period_end, until)
    conditions = _matching_rows(
        goal, sorted(set(f.numerator) | set(f.denominator)), goal.period_start, end
    )
    if projected_only:
        conditions.append(~exists().where(col(ProjectionQueue.entry_seq) == col(LedgerEntry.seq)))

    row = (
        await session.execute(
            sa_select(
                _total(f.numerator),
                _total(f.denominator) if f.is_ratio else literal(Decimal(0)),
            ).where(*conditions)
        )
    ).one()
    return Decimal(row[0]), Decimal(row[1])


async def daily_ledger_figures(
    session: AsyncSession, goal: Goal, until: date
) -> dict[date, tuple[Decimal, Decimal]]:
    """The goal's numerator and denominator credited on each day of its period up to
    `until` (days with nothing credited are absent)."""
    f = formula(goal.metric)
    day = col(LedgerEntry.credited_on)
    conditions = _matching_rows(
        goal,
        sorted(set(f.numerator) | set(f.denominator)),
        goal.period_start,
        min(goal.period_end, until),
    )
    rows = await session.execute(
        sa_select(
            day,
            _total(f.numerator),
            _total(f.denominator) if f.is_ratio else literal(Decimal(0)),
        )
        .where(*conditions)
        .group_by(day)
    )
    return {on: (Decimal(numerator), Decimal(denominator)) for on, numerator, denominator in rows}


def _total(metrics: Sequence[str]) -> ColumnElement[Decimal]:
    return func.coalesce(
        func.sum(case((col(LedgerEntry.metric).in_(metrics), col(LedgerEntry.amount)), else_=0)),
        0,
    )


async def open_pipeline(session: AsyncSession, goal: Goal, after: date) -> tuple[Decimal, Decimal]:
    """Value and count of the open deals in the goal's scope expected to close after
    `after` and within its period (owners' current org units for a team goal)."""
    conditions: list[ColumnElement[bool]] = [
        col(CrmRecord.kind) == "deal",
        col(CrmRecord.status) == "open",
        col(CrmRecord.expected_close_on) > after,
        col(CrmRecord.expected_close_on) <= goal.period_end,
        col(CrmRecord.parked_reason).is_(None),
    ]
    if goal.product_line is not None:
        conditions.append(col(CrmRecord.product_line) == goal.product_line)
    if goal.person_id is not None:
        conditions.append(col(CrmRecord.owner_id) == goal.person_id)
    else:
        members = (
            sa_select(col(Membership.person_id))
            .join(OrgUnit, col(OrgUnit.id) == col(Membership.org_unit_id))
            .where(
                col(OrgUnit.path).contains([goal.org_unit_id]),
                col(Membership.valid_from) <= after,
                or_(col(Membership.valid_to).is_(None), col(Membership.valid_to) > after),
            )
        )
        conditions.append(col(CrmRecord.owner_id).in_(members))
    value, count = (
        await session.execute(
            sa_select(func.coalesce(func.sum(col(CrmRecord.amount)), 0), func.count()).where(
                *conditions
            )
        )
    ).one()
    return Decimal(value or 0), Decimal(count)


async def win_rate(session: AsyncSession, goal: Goal, until: date) -> Decimal:
    """Won / (won + lost) in the goal's scope over the year up to `until`; 0 without history."""
    conditions = _matching_rows(goal, ["deals_won", "deals_lost"], until - WIN_RATE_LOOKBACK, until)
    won = func.sum(case((col(LedgerEntry.metric) == "deals_won", col(LedgerEntry.amount)), else_=0))
    decided = func.sum(col(LedgerEntry.amount))
    row = (await session.execute(sa_select(won, decided).where(*conditions))).one()
    return Decimal(0) if not row[1] else Decimal(row[0]) / Decimal(row[1])


async def goals_where(
    session: AsyncSession,
    *,
    owner_id: str | None,
    org_unit_id: str | None,
    period_key: str | None,
    on: date | None,
    metric: str | None,
    visible_units: Sequence[str] | None,
    visible_owner: str | None,
    after: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Goal], int, bool] | None:
    """Goals by owner, org unit (its subtree), period; restricted to what the caller
    may see (`visible_units`: subtrees they manage; `visible_owner`: their own): a
    page after the goal `after`, how many match, whether more follow; None when
    `after` is not one of them."""
    conditions: list[ColumnElement[bool]] = []
    if owner_id is not None:
        conditions.append(col(Goal.owner_id) == owner_id)
    if org_unit_id is not None:
        conditions.append(col(Goal.org_unit_id).in_(_subtree(org_unit_id)))
    if period_key is not None:
        conditions.append(col(Goal.period_key) == period_key)
    if on is not None:
        conditions.extend([col(Goal.period_start) <= on, col(Goal.period_end) >= on])
    if metric is not None:
        conditions.append(col(Goal.metric) == metric)
    visibility: list[ColumnElement[bool]] = []
    if visible_owner is not None:
        visibility.append(col(Goal.owner_id) == visible_owner)
        visibility.append(col(Goal.person_id) == visible_owner)
    for unit in visible_units or ():
        visibility.append(col(Goal.org_unit_id).in_(_subtree(unit)))
    if visible_units is not None or visible_owner is not None:
        conditions.append(or_(*visibility) if visibility else false())
    total = await session.scalar(sa_select(func.count()).select_from(Goal).where(*conditions))
    if after is not None:
        last = await session.scalar(select(Goal).where(*conditions, col(Goal.id) == after))
        if last is None:
            return None
        conditions.append(
            (col(Goal.period_start) > last.period_start)
            | ((col(Goal.period_start) == last.period_start) & (col(Goal.id) > last.id))
        )
    rows = await session.execute(
        select(Goal)
        .where(*conditions)
        .order_by(col(Goal.period_start), col(Goal.id))
        .limit(limit + 1)
        .offset(offset)
    )
    found = list(rows.scalars())
    return found[:limit], int(total or 0), len(found) > limit


def _subtree(org_unit_id: str) -> Select[str]:
    return sa_select(col(OrgUnit.id)).where(col(OrgUnit.path).contains([org_unit_id]))


async def managed_units(session: AsyncSession, person_id: str) -> list[str]:
    rows = await session.execute(
        select(col(OrgUnit.id)).where(col(OrgUnit.manager_id) == person_id)
    )
    return list(rows.scalars())


async def unit_paths(session: AsyncSession, unit_ids: Sequence[str]) -> dict[str, list[str]]:
    rows = await session.execute(
        select(col(OrgUnit.id), col(OrgUnit.path)).where(col(OrgUnit.id).in_(unit_ids))
    )
    return {unit_id: list(path) for unit_id, path in rows.all()}


async def record_history(
    session: AsyncSession, source_id: str, kind: str, record_id: str
) -> tuple[CrmRecord | None, list[RecordVersion], list[LedgerEntry]]:
    key = (
        col(RecordVersion.source_id) == source_id,
        col(RecordVersion.kind) == kind,
        col(RecordVersion.record_id) == record_id,
    )
    versions = await session.execute(
        select(RecordVersion).where(*key).order_by(col(RecordVersion.version))
    )
    entries = await session.execute(
        select(LedgerEntry)
        .where(
            col(LedgerEntry.source_id) == source_id,
            col(LedgerEntry.record_kind) == kind,
            col(LedgerEntry.record_id) == record_id,
        )
        .order_by(col(LedgerEntry.seq))
    )
    record = await session.get(CrmRecord, (source_id, kind, record_id))
    return record, list(versions.scalars()), list(entries.scalars())


async def replace_memberships(
    session: AsyncSession, person_id: str, version: int, memberships: list[Membership]
) -> bool:
    """Keep the person's membership history from the newest `PersonUpserted` only."""
    current = await session.scalar(
        select(func.max(col(Membership.person_version))).where(
            col(Membership.person_id) == person_id
        )
    )
    if current is not None and current >= version:
        return False
    for old in (
        await session.execute(select(Membership).where(col(Membership.person_id) == person_id))
    ).scalars():
        await session.delete(old)
    await session.flush()
    session.add_all(memberships)
    return True


async def members_of(session: AsyncSession, org_unit_id: str) -> list[str]:
    rows = await session.execute(
        select(col(Membership.person_id))
        .where(col(Membership.org_unit_id) == org_unit_id)
        .distinct()
    )
    return list(rows.scalars())
