"""Reads and writes of incentive-service's tables."""

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, and_, delete, func, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from incentive_service.store.tables import (
    Adjustment,
    Badge,
    ClosedPeriod,
    Credit,
    Goal,
    GoalProgress,
    GrowthScore,
    Membership,
    OrgUnit,
    Person,
    Plan,
    PlanVersion,
    RepriceQueue,
    ScorecardWeights,
    Statement,
)

REPRICE_CHANNEL = "incentive_reprice"
COUNTED_GOALS = ("active", "closed")


# The directory


async def upsert_people(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Newer versions only; the ids whose row changed, so their memberships follow."""
    if not rows:
        return set()
    stmt = insert(Person).values(sorted(rows, key=lambda row: row["id"]))
    upsert = stmt.on_conflict_do_update(
        index_elements=[col(Person.id)],
        set_={"name": stmt.excluded.name, "version": stmt.excluded.version},
        where=col(Person.version) < stmt.excluded.version,
    ).returning(col(Person.id))
    return set((await session.execute(upsert)).scalars())


async def replace_memberships(
    session: AsyncSession, person_ids: Collection[str], rows: Sequence[dict[str, Any]]
) -> None:
    await session.execute(delete(Membership).where(col(Membership.person_id).in_(person_ids)))
    if rows:
        await session.execute(insert(Membership).values(list(rows)))


async def org_units(session: AsyncSession) -> dict[str, OrgUnit]:
    """Every unit: an org tree is hundreds of units, not millions."""
    return {unit.id: unit for unit in (await session.execute(select(OrgUnit))).scalars()}


async def people(session: AsyncSession, person_ids: Collection[str] | None = None) -> list[Person]:
    query = select(Person).order_by(col(Person.id))
    if person_ids is not None:
        query = query.where(col(Person.id).in_(person_ids))
    return list((await session.execute(query)).scalars())


async def memberships(
    session: AsyncSession, person_ids: Collection[str] | None = None
) -> dict[str, list[Membership]]:
    query = select(Membership).order_by(col(Membership.person_id), col(Membership.valid_from))
    if person_ids is not None:
        query = query.where(col(Membership.person_id).in_(person_ids))
    held: dict[str, list[Membership]] = defaultdict(list)
    for membership in (await session.execute(query)).scalars():
        held[membership.person_id].append(membership)
    return held


async def members_of(
    session: AsyncSession, unit_ids: Collection[str], on: date
) -> dict[str, list[str]]:
    """The people in each unit on `on`, sorted."""
    rows = await session.execute(
        select(col(Membership.org_unit_id), col(Membership.person_id))
        .where(
            col(Membership.org_unit_id).in_(unit_ids),
            col(Membership.valid_from) <= on,
            or_(col(Membership.valid_to).is_(None), col(Membership.valid_to) > on),
        )
        .order_by(col(Membership.org_unit_id), col(Membership.person_id))
    )
    members: dict[str, list[str]] = defaultdict(list)
    for unit_id, person_id in rows:
        members[unit_id].append(person_id)
    return members


async def managed_units(session: AsyncSession, person_id: str) -> list[str]:
    rows = await session.execute(
        select(col(OrgUnit.id)).where(col(OrgUnit.manager_id) == person_id)
    )
    return list(rows.scalars())


# Goals


async def person_goals(
    session: AsyncSession,
    person_ids: Collection[str],
    metrics: Collection[str],
    first: date,
    last: date,
) -> list[Goal]:
    rows = await session.execute(
        select(Goal).where(
            col(Goal.person_id).in_(person_ids),
            col(Goal.metric).in_(metrics),
            col(Goal.period_start) >= first,
            col(Goal.period_end) <= last,
            col(Goal.status).in_(COUNTED_GOALS),
        )
    )
    return list(rows.scalars())


async def unit_goals(
    session: AsyncSession, unit_ids: Collection[str], metric: str, start: date, end: date
) -> dict[str, Goal]:
    rows = await session.execute(
        select(Goal)
        .where(
            col(Goal.org_unit_id).in_(unit_ids),
            col(Goal.person_id).is_(None),
            col(Goal.metric) == metric,
            col(Goal.period_start) == start,
            col(Goal.period_end) == end,
            col(Goal.status).in_(COUNTED_GOALS),
        )
        .order_by(col(Goal.goal_id))
    )
    goals: dict[str, Goal] = {}
    for goal in rows.scalars():
        goals.setdefault(goal.org_unit_id, goal)
    return goals


async def process_goals(
    session: AsyncSession, person_id: str, metrics: Collection[str], start: date, end: date
) -> Sequence[Any]:
    """The person's process goals inside the period, with their latest actual."""
    rows = await session.execute(
        select(
            col(Goal.goal_id),
            col(Goal.metric),
            col(Goal.target),
            func.coalesce(col(GoalProgress.actual), 0).label("actual"),
        )
        .outerjoin(GoalProgress, col(GoalProgress.goal_id) == col(Goal.goal_id))
        .where(
            col(Goal.person_id) == person_id,
            col(Goal.metric).in_(metrics),
            col(Goal.period_start) >= start,
            col(Goal.period_end) <= end,
            col(Goal.status).in_(COUNTED_GOALS),
        )
        .order_by(col(Goal.goal_id))
    )
    return rows.all()


# Credits


async def add_credits(session: AsyncSession, rows: list[dict[str, Any]]) -> Sequence[Any]:
    """Insert the ledger rows not yet held; each inserted one's person, day and org path."""
    if not rows:
        return []
    inserted = await session.execute(
        insert(Credit)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[col(Credit.entry_id)])
        .returning(col(Credit.person_id), col(Credit.credited_on), col(Credit.org_path))
    )
    return inserted.all()


async def credits(
    session: AsyncSession,
    person_ids: Collection[str],
    metrics: Collection[str],
    first: date,
    last: date,
) -> Sequence[Any]:
    rows = await session.execute(
        select(
            col(Credit.person_id),
            col(Credit.metric),
            col(Credit.entry_id),
            col(Credit.deal_id),
            col(Credit.credited_on),
            col(Credit.amount),
            col(Credit.product_line),
            col(Credit.recorded_at),
            col(Credit.seq),
        ).where(
            col(Credit.person_id).in_(person_ids),
            col(Credit.metric).in_(metrics),
            col(Credit.credited_on) >= first,
            col(Credit.credited_on) <= last,
        )
    )
    return rows.all()


async def contributions(
    session: AsyncSession, unit_ids: Collection[str], metric: str, first: date, last: date
) -> dict[str, dict[str, Decimal]]:
    """Each unit's credited amount per person over its subtree: a team goal's actual."""
    org_path = Credit.__table__.c.org_path  # type: ignore[attr-defined]
    unit = func.unnest(col(Credit.org_path)).table_valued("unit").alias("unit")
    rows = await session.execute(
        select(unit.c.unit, col(Credit.person_id), func.sum(col(Credit.amount)))
        .select_from(Credit)
        .join(unit, text("true"))
        .where(
            unit.c.unit.in_(unit_ids),
            org_path.overlap(list(unit_ids)),
            col(Credit.metric) == metric,
            col(Credit.credited_on) >= first,
            col(Credit.credited_on) <= last,
        )
        .group_by(unit.c.unit, col(Credit.person_id))
    )
    sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for unit_id, person_id, amount in rows:
        sums[unit_id][person_id] = amount
    return sums


async def actuals_by_person(
    session: AsyncSession, person_ids: Collection[str], metric: str, first: date, last: date
) -> dict[str, Decimal]:
    rows = await session.execute(
        select(col(Credit.person_id), func.sum(col(Credit.amount)))
        .where(
            col(Credit.person_id).in_(person_ids),
            col(Credit.metric) == metric,
            col(Credit.credited_on) >= first,
            col(Credit.credited_on) <= last,
        )
        .group_by(col(Credit.person_id))
    )
    return {person_id: amount for person_id, amount in rows}


# Plans


async def plan(session: AsyncSession, plan_id: str, *, for_update: bool = False) -> Plan | None:
    return await session.get(Plan, plan_id, with_for_update=for_update)


async def plans(session: AsyncSession) -> list[Plan]:
    return list((await session.execute(select(Plan).order_by(col(Plan.id)))).scalars())


async def plan_versions(session: AsyncSession, plan_id: str | None = None) -> list[PlanVersion]:
    query = select(PlanVersion).order_by(col(PlanVersion.plan_id), col(PlanVersion.effective_from))
    if plan_id is not None:
        query = query.where(col(PlanVersion.plan_id) == plan_id)
    return list((await session.execute(query)).scalars())


async def any_team_bonus(session: AsyncSession) -> bool:
    found = await session.execute(
        select(col(PlanVersion.plan_id))
        .where(text('terms @> \'{"components": [{"kind": "team_bonus"}]}\''))
        .limit(1)
    )
    return found.first() is not None


# The reprice queue


async def enqueue(session: AsyncSession, keys: Iterable[tuple[str, str]]) -> int:
    """Mark statements to price again; a NOTIFY wakes the repricer on commit."""
    rows = [{"person_id": person, "period_key": period} for person, period in sorted(set(keys))]
    if not rows:
        return 0
    for start in range(0, len(rows), 5_000):
        await session.execute(
            insert(RepriceQueue).values(rows[start : start + 5_000]).on_conflict_do_nothing()
        )
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": REPRICE_CHANNEL})
    return len(rows)


async def claim(session: AsyncSession, limit: int) -> list[tuple[str, str]]:
    """Take up to `limit` queued statements; another replica skips the ones taken."""
    queued = (
        select(col(RepriceQueue.person_id), col(RepriceQueue.period_key))
        .order_by(col(RepriceQueue.period_key), col(RepriceQueue.person_id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = await session.execute(
        delete(RepriceQueue)
        .where(tuple_(col(RepriceQueue.person_id), col(RepriceQueue.period_key)).in_(queued))
        .returning(col(RepriceQueue.person_id), col(RepriceQueue.period_key))
    )
    return sorted((person, period) for person, period in rows)


async def lock_statements(session: AsyncSession, keys: Collection[tuple[str, str]]) -> None:
    """Serialise pricing of each statement: the repricer, a payout run and a close
    may price the same one at once. Taken in one order, so they cannot deadlock."""
    names = sorted(f"{person}:{period}" for person, period in keys)
    await session.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended(name, 0))"
            " FROM (SELECT unnest(CAST(:names AS text[])) AS name ORDER BY 1) AS ordered"
        ),
        {"names": names},
    )


# Statements, adjustments, closing


async def statements(
    session: AsyncSession, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], Statement]:
    held: dict[tuple[str, str], Statement] = {}
    keys = sorted(keys)
    for start in range(0, len(keys), 5_000):
        rows = await session.execute(
            select(Statement).where(
                tuple_(col(Statement.person_id), col(Statement.period_key)).in_(
                    keys[start : start + 5_000]
                )
            )
        )
        for statement in rows.scalars():
            held[(statement.person_id, statement.period_key)] = statement
    return held


async def statement(session: AsyncSession, person_id: str, period_key: str) -> Statement | None:
    return await session.get(Statement, (person_id, period_key))


async def statements_of_person(session: AsyncSession, person_id: str) -> list[Statement]:
    rows = await session.execute(
        select(Statement)
        .where(col(Statement.person_id) == person_id)
        .order_by(col(Statement.period_start), col(Statement.period_key))
    )
    return list(rows.scalars())


async def statements_of_period(session: AsyncSession, period_key: str) -> list[Statement]:
    rows = await session.execute(
        select(Statement)
        .where(col(Statement.period_key) == period_key)
        .order_by(col(Statement.person_id))
    )
    return list(rows.scalars())


async def people_with_statements(session: AsyncSession, period_key: str) -> list[str]:
    rows = await session.execute(
        select(col(Statement.person_id)).where(col(Statement.period_key) == period_key)
    )
    return list(rows.scalars())


async def adjustments_into(
    session: AsyncSession, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], list[Adjustment]]:
    found: dict[tuple[str, str], list[Adjustment]] = defaultdict(list)
    if not keys:
        return found
    rows = await session.execute(
        select(Adjustment)
        .where(
            tuple_(col(Adjustment.person_id), col(Adjustment.target_period_key)).in_(sorted(keys))
        )
        .order_by(col(Adjustment.id))
    )
    for adjustment in rows.scalars():
        found[(adjustment.person_id, adjustment.target_period_key)].append(adjustment)
    return found


async def adjusted_since_close(
    session: AsyncSession, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], Decimal]:
    """What has been carried out of each closed (person, period) so far."""
    if not keys:
        return {}
    rows = await session.execute(
        select(
            col(Adjustment.person_id),
            col(Adjustment.source_period_key),
            func.sum(col(Adjustment.amount)),
        )
        .where(
            tuple_(col(Adjustment.person_id), col(Adjustment.source_period_key)).in_(sorted(keys))
        )
        .group_by(col(Adjustment.person_id), col(Adjustment.source_period_key))
    )
    return {(person, period): amount for person, period, amount in rows}


async def adjustments_out_of(
    session: AsyncSession, person_id: str, period_key: str
) -> list[Adjustment]:
    rows = await session.execute(
        select(Adjustment)
        .where(
            and_(
                col(Adjustment.person_id) == person_id,
                col(Adjustment.source_period_key) == period_key,
            )
        )
        .order_by(col(Adjustment.id))
    )
    return list(rows.scalars())


async def closed_periods(session: AsyncSession) -> dict[str, ClosedPeriod]:
    rows = await session.execute(select(ClosedPeriod))
    return {closed.period_key: closed for closed in rows.scalars()}


async def lock_periods(
    session: AsyncSession, period_keys: Collection[str], *, shared: bool
) -> None:
    """Pricing holds its periods shared; a payout run or a close holds its period
    exclusively, so it sees every statement as nobody else is changing it."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await session.execute(
        text(
            f"SELECT {function}(hashtextextended('period:' || name, 0))"
            " FROM (SELECT unnest(CAST(:names AS text[])) AS name ORDER BY 1) AS ordered"
        ),
        {"names": sorted(period_keys)},
    )


async def award_badges(session: AsyncSession, rows: list[dict[str, Any]]) -> list[Badge]:
    """Insert the badges not yet awarded; the ones inserted now."""
    if not rows:
        return []
    inserted = await session.execute(
        insert(Badge)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[col(Badge.badge_id)])
        .returning(Badge)
    )
    return list(inserted.scalars())


async def badges_of(session: AsyncSession, person_id: str) -> list[Badge]:
    rows = await session.execute(
        select(Badge)
        .where(col(Badge.person_id) == person_id)
        .order_by(col(Badge.awarded_at), col(Badge.badge_id))
    )
    return list(rows.scalars())


async def growth_score(
    session: AsyncSession, person_id: str, period_key: str
) -> GrowthScore | None:
    return await session.get(GrowthScore, (person_id, period_key))


async def scorecard_weights(
    session: AsyncSession, unit_ids: Collection[str]
) -> dict[str, ScorecardWeights]:
    rows = await session.execute(
        select(ScorecardWeights).where(col(ScorecardWeights.org_unit_id).in_(unit_ids))
    )
    return {weights.org_unit_id: weights for weights in rows.scalars()}


async def goals(session: AsyncSession, goal_ids: Collection[str]) -> dict[str, Goal]:
    rows = await session.execute(select(Goal).where(col(Goal.goal_id).in_(goal_ids)))
    return {goal.goal_id: goal for goal in rows.scalars()}


async def open_statement_keys(
    session: AsyncSession, plan_id: str, person_ids: Collection[str]
) -> list[tuple[str, str]]:
    """The open statements a plan priced, or that belong to people it now applies to."""
    rows = await session.execute(
        select(col(Statement.person_id), col(Statement.period_key)).where(
            col(Statement.status) == "open",
            or_(col(Statement.plan_id) == plan_id, col(Statement.person_id).in_(person_ids)),
        )
    )
    return [(person, period) for person, period in rows]


async def closed_periods_between(
    session: AsyncSession, kind: str, first: date, last: date | None
) -> list[str]:
    """The closed periods of `kind` that overlap `first` .. `last` (exclusive, open when None)."""
    query = select(col(ClosedPeriod.period_key)).where(
        col(ClosedPeriod.period_kind) == kind, col(ClosedPeriod.period_end) >= first
    )
    if last is not None:
        query = query.where(col(ClosedPeriod.period_start) < last)
    return list((await session.execute(query.order_by(col(ClosedPeriod.period_start)))).scalars())


async def credited_months(
    session: AsyncSession, person_ids: Collection[str]
) -> list[tuple[str, date]]:
    """The first day of every month in which each person has credits."""
    month = func.date_trunc("month", col(Credit.credited_on)).cast(Date)
    rows = await session.execute(
        select(col(Credit.person_id), month).where(col(Credit.person_id).in_(person_ids)).distinct()
    )
    return [(person, day) for person, day in rows]


async def last_credit_seq(session: AsyncSession) -> int:
    found = await session.execute(select(func.coalesce(func.max(col(Credit.seq)), 0)))
    return int(found.scalar_one() or 0)
