"""Alerts and their history."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from alert_service.store.tables import Alert, AlertHistory
from servicekit.errors import FieldError


class Alerts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, alert: Alert) -> None:
        self._session.add(alert)

    def add_history(self, entry: AlertHistory) -> None:
        self._session.add(entry)

    async def unresolved(self, goal_ids: Iterable[str] | None = None) -> list[Alert]:
        query = select(Alert).where(Alert.status != "resolved")
        if goal_ids is not None:
            query = query.where(col(Alert.goal_id).in_(list(goal_ids)))
        return list((await self._session.execute(query.with_for_update())).scalars())

    async def unresolved_goal_ids(self) -> list[str]:
        rows = await self._session.execute(
            select(Alert.goal_id).where(Alert.status != "resolved").distinct()
        )
        return list(rows.scalars())

    async def escalations_due(self, critical_before: datetime) -> list[Alert]:
        rows = await self._session.execute(
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

    async def one(self, alert_id: str, *, for_update: bool = False) -> Alert | None:
        query = select(Alert).where(Alert.id == alert_id)
        if for_update:
            query = query.with_for_update()
        return (await self._session.execute(query)).scalar_one_or_none()

    async def page(
        self,
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
        session = self._session
        total = (
            await session.execute(sa_select(func.count()).select_from(query.subquery()))
        ).scalar()
        if after is not None:
            last = (await session.execute(query.where(Alert.id == after))).scalar_one_or_none()
            if last is None:
                raise FieldError("after", "not an item of this list; start again without it")
            query = query.where(
                (col(Alert.opened_at) < last.opened_at)
                | ((col(Alert.opened_at) == last.opened_at) & (col(Alert.id) > last.id))
            )
        rows = await session.execute(
            query.order_by(col(Alert.opened_at).desc(), col(Alert.id))
            .limit(limit + 1)
            .offset(offset)
        )
        found = list(rows.scalars())
        return found[:limit], int(total or 0), len(found) > limit

    async def history(self, alert_id: str) -> list[AlertHistory]:
        rows = await self._session.execute(
            select(AlertHistory)
            .where(AlertHistory.alert_id == alert_id)
            .order_by(col(AlertHistory.id))
        )
        return list(rows.scalars())
