"""Reads and writes of alert-service's tables.

Evaluation reads goals as plain rows, not ORM objects: a sweep reads tens of
thousands of them. Deciding about a goal's alerts holds the locks on its open
alerts, and two evaluations of one goal are kept apart by a transaction-scoped
advisory lock per goal, always taken in goal id order so they cannot deadlock."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from alert_service.store.tables import (
    Alert,
    AlertHistory,
    Delivery,
    DeliveryAttempt,
    Goal,
    GoalProgress,
    OrgUnit,
    Person,
    RuleSetting,
    Subscription,
)
from servicekit.problems import InvalidInput

GOAL = Goal.__table__  # type: ignore[attr-defined]
PROGRESS = GoalProgress.__table__  # type: ignore[attr-defined]
SWEEP_LOCK = 0x41_4C_45_52_54  # "ALERT": one replica sweeps at a time


async def mark_recorded(session: AsyncSession, recorded: dict[str, date]) -> None:
    """Move each person's last recorded day forward (never back)."""
    for person_id, day in sorted(recorded.items()):
        await session.execute(
            insert(Person)
            .values(id=person_id, name=person_id, version=0, last_recorded_on=day)
            .on_conflict_do_update(
                index_elements=[col(Person.id)],
                set_={"last_recorded_on": func.greatest(Person.last_recorded_on, day)},
            )
        )


async def progress_of(session: AsyncSession, goal_ids: Iterable[str]) -> dict[str, Row[Any]]:
    rows = await session.execute(
        sa_select(PROGRESS.c.goal_id, PROGRESS.c.numerator, PROGRESS.c.denominator).where(
            PROGRESS.c.goal_id.in_(list(goal_ids))
        )
    )
    return {row.goal_id: row for row in rows}


def _goals_with_progress() -> Any:
    return sa_select(GOAL, PROGRESS.c.numerator, PROGRESS.c.denominator).select_from(
        GOAL.outerjoin(PROGRESS, PROGRESS.c.goal_id == GOAL.c.goal_id)
    )


async def goals(session: AsyncSession, goal_ids: Iterable[str]) -> list[Row[Any]]:
    rows = await session.execute(_goals_with_progress().where(GOAL.c.goal_id.in_(list(goal_ids))))
    return list(rows)


async def children(session: AsyncSession, parent_ids: Iterable[str]) -> list[Row[Any]]:
    rows = await session.execute(
        _goals_with_progress().where(
            GOAL.c.parent_id.in_(list(parent_ids)), GOAL.c.status == "active"
        )
    )
    return list(rows)


async def current_goal_ids(session: AsyncSession, first_day: date, last_day: date) -> list[str]:
    """Active goals whose period overlaps [first_day, last_day]."""
    rows = await session.execute(
        sa_select(GOAL.c.goal_id).where(
            GOAL.c.status == "active",
            GOAL.c.period_start <= last_day,
            GOAL.c.period_end >= first_day,
        )
    )
    return list(rows.scalars())


async def short_goals_ended(
    session: AsyncSession, after: date, before: date, org_unit_ids: Iterable[str]
) -> list[Any]:
    """Active goals of a month or less that ended in (after, before): the closed
    periods `consecutive_low` reads."""
    query = _goals_with_progress().where(
        GOAL.c.status == "active",
        GOAL.c.period_end > after,
        GOAL.c.period_end < before,
        GOAL.c.period_end - GOAL.c.period_start <= 30,
        GOAL.c.org_unit_id.in_(list(org_unit_ids)),
    )
    return list(await session.execute(query))


async def person_goals_current(
    session: AsyncSession, person_ids: Iterable[str], first_day: date, last_day: date
) -> list[Any]:
    rows = await session.execute(
        sa_select(
            GOAL.c.goal_id, GOAL.c.person_id, GOAL.c.period_start, GOAL.c.period_end, GOAL.c.metric
        ).where(
            GOAL.c.person_id.in_(list(person_ids)),
            GOAL.c.status == "active",
            GOAL.c.period_start <= last_day,
            GOAL.c.period_end >= first_day,
        )
    )
    return list(rows.all())


async def org_units(session: AsyncSession, ids: Iterable[str] | None = None) -> dict[str, OrgUnit]:
    query = select(OrgUnit)
    if ids is not None:
        query = query.where(col(OrgUnit.id).in_(list(ids)))
    return {unit.id: unit for unit in (await session.execute(query)).scalars()}


async def units_managed_by(session: AsyncSession, person_id: str) -> list[str]:
    rows = await session.execute(select(OrgUnit.id).where(OrgUnit.manager_id == person_id))
    return list(rows.scalars())


async def people(session: AsyncSession, ids: Iterable[str]) -> dict[str, Person]:
    rows = await session.execute(select(Person).where(col(Person.id).in_(list(ids))))
    return {person.id: person for person in rows.scalars()}


async def goal(session: AsyncSession, goal_id: str) -> Goal | None:
    return await session.get(Goal, goal_id)


async def goals_by_id(session: AsyncSession, goal_ids: Iterable[str]) -> list[Goal]:
    rows = await session.execute(select(Goal).where(col(Goal.goal_id).in_(list(goal_ids))))
    return list(rows.scalars())


async def rule_settings(session: AsyncSession) -> list[RuleSetting]:
    return list((await session.execute(select(RuleSetting))).scalars())


# Goals are locked by bucket: a sweep of W's ~18,000 goals with one lock each
# overflows PostgreSQL's shared lock table ("out of shared memory").
LOCK_BUCKETS = 1024  # a power of two: a bucket is the hash's low bits


async def lock_goals(session: AsyncSession, goal_ids: Iterable[str]) -> None:
    """One statement for all the goals, buckets taken in order so that two
    evaluations cannot deadlock."""
    await session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(:space, b)) FROM ("
            " SELECT DISTINCT hashtext(k) & (:buckets - 1) AS b"
            " FROM unnest(CAST(:keys AS text[])) AS k ORDER BY b) AS ordered"
        ),
        {"space": SWEEP_LOCK % 2**31, "buckets": LOCK_BUCKETS, "keys": sorted(set(goal_ids))},
    )


async def try_sweep_lock(session: AsyncSession) -> bool:
    locked = await session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK}
    )
    return bool(locked.scalar())


async def unresolved_alerts(
    session: AsyncSession, goal_ids: Iterable[str] | None = None
) -> list[Alert]:
    query = select(Alert).where(Alert.status != "resolved")
    if goal_ids is not None:
        query = query.where(col(Alert.goal_id).in_(list(goal_ids)))
    return list((await session.execute(query.with_for_update())).scalars())


async def unresolved_goal_ids(session: AsyncSession) -> list[str]:
    rows = await session.execute(select(Alert.goal_id).where(Alert.status != "resolved").distinct())
    return list(rows.scalars())


async def escalations_due(session: AsyncSession, critical_before: datetime) -> list[Alert]:
    rows = await session.execute(
        select(Alert)
        .where(
            Alert.status == "open",
            Alert.severity == "critical",
            col(Alert.escalated_at).is_(None),
            col(Alert.critical_since) <= critical_before,
        )
        .order_by(col(Alert.critical_since))
        .with_for_update(skip_locked=True)
    )
    return list(rows.scalars())


async def alert(session: AsyncSession, alert_id: str, *, for_update: bool = False) -> Alert | None:
    query = select(Alert).where(Alert.id == alert_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def alerts(
    session: AsyncSession,
    *,
    owner_id: str | None = None,
    org_unit_id: str | None = None,
    goal_id: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    status: str | None = None,
    visible_to: tuple[str, list[str]] | None = None,
    after: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Alert], int, bool]:
    """Newest first, how many match in all, and whether more follow. `visible_to`
    is (person id, org units they manage): their own alerts and their subtree's.
    `after` is the id of the last alert of the previous page, among these."""
    query = select(Alert)
    if owner_id is not None:
        query = query.where(Alert.owner_id == owner_id)
    if org_unit_id is not None:
        query = query.where(col(Alert.org_path).contains([org_unit_id]))
    if goal_id is not None:
        query = query.where(Alert.goal_id == goal_id)
    if rule is not None:
        query = query.where(Alert.rule == rule)
    if severity is not None:
        query = query.where(Alert.severity == severity)
    if status is not None:
        query = query.where(Alert.status == status)
    if visible_to is not None:
        person_id, managed = visible_to
        query = query.where(
            (col(Alert.owner_id) == person_id) | col(Alert.org_path).overlap(managed)  # type: ignore[attr-defined]
        )
    total = (await session.execute(sa_select(func.count()).select_from(query.subquery()))).scalar()
    if after is not None:
        last = (await session.execute(query.where(Alert.id == after))).scalar_one_or_none()
        if last is None:
            raise InvalidInput("not an item of this list; start again without it", field="after")
        query = query.where(
            (col(Alert.opened_at) < last.opened_at)
            | ((col(Alert.opened_at) == last.opened_at) & (col(Alert.id) > last.id))
        )
    rows = await session.execute(
        query.order_by(col(Alert.opened_at).desc(), col(Alert.id)).limit(limit + 1).offset(offset)
    )
    found = list(rows.scalars())
    return found[:limit], int(total or 0), len(found) > limit


async def history(session: AsyncSession, alert_id: str) -> list[AlertHistory]:
    rows = await session.execute(
        select(AlertHistory).where(AlertHistory.alert_id == alert_id).order_by(col(AlertHistory.id))
    )
    return list(rows.scalars())


async def subscriptions_of(session: AsyncSession, person_ids: Iterable[str]) -> list[Subscription]:
    rows = await session.execute(
        select(Subscription)
        .where(col(Subscription.person_id).in_(list(person_ids)), col(Subscription.enabled))
        .order_by(col(Subscription.created_at), col(Subscription.id))
    )
    return list(rows.scalars())


async def subscriptions(session: AsyncSession, person_id: str | None) -> list[Subscription]:
    query = select(Subscription)
    if person_id is not None:
        query = query.where(Subscription.person_id == person_id)
    rows = await session.execute(query.order_by(col(Subscription.created_at), col(Subscription.id)))
    return list(rows.scalars())


async def deliveries_of(session: AsyncSession, alert_id: str) -> list[Delivery]:
    rows = await session.execute(
        select(Delivery)
        .where(Delivery.alert_id == alert_id)
        .order_by(col(Delivery.created_at), col(Delivery.id))
    )
    return list(rows.scalars())


async def attempts_of(session: AsyncSession, delivery_ids: Iterable[str]) -> list[DeliveryAttempt]:
    rows = await session.execute(
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_(list(delivery_ids)))
        .order_by(col(DeliveryAttempt.id))
    )
    return list(rows.scalars())


async def claim_due_deliveries(session: AsyncSession, now: datetime, limit: int) -> list[Delivery]:
    rows = await session.execute(
        select(Delivery)
        .where(Delivery.status == "pending", col(Delivery.next_attempt_at) <= now)
        .order_by(col(Delivery.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.scalars())


async def pending_deliveries_count(session: AsyncSession) -> int:
    rows = await session.execute(
        sa_select(func.count()).select_from(Delivery).where(col(Delivery.status) == "pending")
    )
    return int(rows.scalar() or 0)
