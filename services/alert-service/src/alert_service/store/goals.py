"""Our copy of goal-service's goals and tracking-service's progress, read as plain
rows for evaluation: a sweep reads tens of thousands of them.

Two evaluations of one goal are kept apart by a transaction-scoped advisory lock
per goal, always taken in goal id order so they cannot deadlock; deciding about
a goal's alerts then holds the locks on its open alerts."""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from alert_service.store.tables import Goal, GoalProgress
from attain_contracts import GoalArchived
from servicekit.db import upsert_newer
from servicekit.orgcopy import archive_goals

GOAL = Goal.__table__  # type: ignore[attr-defined]
PROGRESS = GoalProgress.__table__  # type: ignore[attr-defined]
SWEEP_LOCK = 0x41_4C_45_52_54  # "ALERT": one replica sweeps at a time
# Goals are locked by bucket: a sweep of W's ~18,000 goals with one lock each
# overflows PostgreSQL's shared lock table ("out of shared memory").
LOCK_BUCKETS = 1024  # a power of two: a bucket is the hash's low bits


class Goals:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, rows: list[dict[str, Any]]) -> None:
        await upsert_newer(self._session, Goal, "goal_id", rows, "version")

    async def archive(self, events: Sequence[GoalArchived]) -> None:
        await archive_goals(self._session, Goal, events)

    async def one(self, goal_id: str) -> Goal | None:
        return await self._session.get(Goal, goal_id)

    async def by_id(self, goal_ids: Iterable[str]) -> list[Goal]:
        rows = await self._session.execute(
            select(Goal).where(col(Goal.goal_id).in_(list(goal_ids)))
        )
        return list(rows.scalars())

    async def with_progress(self, goal_ids: Iterable[str]) -> list[Row[Any]]:
        rows = await self._session.execute(
            _goals_with_progress().where(GOAL.c.goal_id.in_(list(goal_ids)))
        )
        return list(rows)

    async def children(self, parent_ids: Iterable[str]) -> list[Row[Any]]:
        rows = await self._session.execute(
            _goals_with_progress().where(
                GOAL.c.parent_id.in_(list(parent_ids)), GOAL.c.status == "active"
            )
        )
        return list(rows)

    async def current_ids(self, first_day: date, last_day: date) -> list[str]:
        """Active goals whose period overlaps [first_day, last_day]."""
        rows = await self._session.execute(
            sa_select(GOAL.c.goal_id).where(
                GOAL.c.status == "active",
                GOAL.c.period_start <= last_day,
                GOAL.c.period_end >= first_day,
            )
        )
        return list(rows.scalars())

    async def short_ended(
        self, after: date, before: date, org_unit_ids: Iterable[str]
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
        return list(await self._session.execute(query))

    async def of_people_current(
        self, person_ids: Iterable[str], first_day: date, last_day: date
    ) -> list[Any]:
        rows = await self._session.execute(
            sa_select(
                GOAL.c.goal_id,
                GOAL.c.person_id,
                GOAL.c.period_start,
                GOAL.c.period_end,
                GOAL.c.metric,
            ).where(
                GOAL.c.person_id.in_(list(person_ids)),
                GOAL.c.status == "active",
                GOAL.c.period_start <= last_day,
                GOAL.c.period_end >= first_day,
            )
        )
        return list(rows.all())

    async def lock(self, goal_ids: Iterable[str]) -> None:
        await lock_goals(self._session, goal_ids)

    async def try_sweep_lock(self) -> bool:
        locked = await self._session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK}
        )
        return bool(locked.scalar())


class Progress:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of(self, goal_ids: Iterable[str]) -> dict[str, Row[Any]]:
        rows = await self._session.execute(
            sa_select(PROGRESS.c.goal_id, PROGRESS.c.numerator, PROGRESS.c.denominator).where(
                PROGRESS.c.goal_id.in_(list(goal_ids))
            )
        )
        return {row.goal_id: row for row in rows}

    async def one(self, goal_id: str) -> GoalProgress | None:
        return await self._session.get(GoalProgress, goal_id)

    async def upsert(self, rows: list[dict[str, Any]]) -> None:
        await upsert_newer(self._session, GoalProgress, "goal_id", rows, "sequence")


def _goals_with_progress() -> Any:
    return sa_select(
        GOAL,
        PROGRESS.c.numerator,
        PROGRESS.c.denominator,
        PROGRESS.c.as_of.label("progress_as_of"),
    ).select_from(GOAL.outerjoin(PROGRESS, PROGRESS.c.goal_id == GOAL.c.goal_id))


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
