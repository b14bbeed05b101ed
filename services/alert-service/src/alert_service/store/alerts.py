"""Alerts and their history."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, tuple_
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from alert_service.domain.lifecycle import SEVERITY_RANK, Order
from alert_service.store.tables import Alert, AlertHistory
from servicekit.errors import FieldError


def _sort_key(order: Order) -> list[Any]:
    """What places an alert in its list. "newest" (latest opened first): when it opened,
    then its id. "at_risk", the at-risk list, every column ascending: the largest
    shortfall (1 - pace; none when on pace or ahead, or when there is no pace) first,
    then the more severe, then the one open longest."""
    if order == "newest":
        return [col(Alert.opened_at), col(Alert.id)]
    shortfall = func.greatest(literal(0), 1 - func.coalesce(col(Alert.pace), 1))
    severity = case(
        *((col(Alert.severity) == name, rank) for name, rank in SEVERITY_RANK.items()),
        else_=-1,
    )
    return [-shortfall, -severity, col(Alert.opened_at), col(Alert.id)]


def _order_by(order: Order) -> list[Any]:
    if order == "newest":
        return [col(Alert.opened_at).desc(), col(Alert.id)]
    return _sort_key(order)


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

    async def unresolved_by_severity(self) -> dict[str, int]:
        rows = await self._session.execute(
            sa_select(col(Alert.severity), func.count())
            .where(col(Alert.status) != "resolved")
            .group_by(col(Alert.severity))
        )
        return {severity: count for severity, count in rows.tuples()}

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
        statuses: Sequence[str] = (),
        visible_to: tuple[str, list[str]] | None = None,
        order: Order = "newest",
        after: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[Alert], int, bool]:
        """In `order`, how many match in all, and whether more follow. `statuses`: any
        of these (every status when empty). `visible_to` is (person id, org units they
        manage): their own alerts and their subtree's. `after` is the id of the last
        alert of the previous page, among these."""
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
        if statuses:
            query = query.where(col(Alert.status).in_(list(statuses)))
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
            query = query.where(await self._behind(query, order, after))
        rows = await session.execute(
            query.order_by(*_order_by(order)).limit(limit + 1).offset(offset)
        )
        found = list(rows.scalars())
        return found[:limit], int(total or 0), len(found) > limit

    async def _behind(self, query: Any, order: Order, after: str) -> ColumnElement[bool]:
        """What comes after the alert `after` of this list, in `order`."""
        last = (
            await self._session.execute(
                query.with_only_columns(*_sort_key(order)).where(col(Alert.id) == after)
            )
        ).one_or_none()
        if last is None:
            raise FieldError("after", "not an item of this list; start again without it")
        if order == "at_risk":
            return tuple_(*_sort_key(order)) > tuple_(*(literal(v) for v in last))
        opened_at, alert_id = last
        return (col(Alert.opened_at) < opened_at) | (
            (col(Alert.opened_at) == opened_at) & (col(Alert.id) > alert_id)
        )

    async def history(self, alert_id: str) -> list[AlertHistory]:
        rows = await self._session.execute(
            select(AlertHistory)
            .where(AlertHistory.alert_id == alert_id)
            .order_by(col(AlertHistory.id))
        )
        return list(rows.scalars())
