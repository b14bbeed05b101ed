"""What the ledger holds for a goal (or many at once): its figures up to a day, day by day, and
the pipeline and win rate a projection reads."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    Text,
    and_,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    or_,
    values,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from attain_contracts.progress import formula
from tracking_service.store.chunks import CHUNK, chunks
from tracking_service.store.tables import (
    CrmRecord,
    Goal,
    LedgerEntry,
    Membership,
    OrgUnit,
    ProjectionQueue,
)

WIN_RATE_LOOKBACK = timedelta(days=365)


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


def _total(metrics: Sequence[str]) -> ColumnElement[Decimal]:
    return func.coalesce(
        func.sum(case((col(LedgerEntry.metric).in_(metrics), col(LedgerEntry.amount)), else_=0)),
        0,
    )


class Figures:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of(
        self, goal: Goal, until: date | None = None, projected_only: bool = False
    ) -> tuple[Decimal, Decimal]:
        """The goal's numerator and denominator summed from the ledger (credited up to
        `until`; only rows the projector has folded, when `projected_only`)."""
        ends = None if until is None else {goal.id: until}
        return (await self.of_many([goal], until=ends, projected_only=projected_only))[goal.id]

    async def of_many(
        self,
        goals: Sequence[Goal],
        until: Mapping[str, date] | None = None,
        projected_only: bool = False,
    ) -> dict[str, tuple[Decimal, Decimal]]:
        """`of` for many goals in a few statements: one per metric and kind of scope (a
        person's goals join the ledger on the person, a unit's on its org path)."""
        figures = {goal.id: (Decimal(0), Decimal(0)) for goal in goals}
        groups: dict[tuple[str, bool], list[Goal]] = defaultdict(list)
        for goal in goals:
            groups[(goal.metric, goal.person_id is not None)].append(goal)
        for (metric, of_person), members in groups.items():
            for chunk in chunks(members, CHUNK // 6):
                rows = await self.session.execute(
                    _figures_statement(metric, of_person, chunk, until or {}, projected_only)
                )
                for goal_id, numerator, denominator in rows:
                    figures[goal_id] = (Decimal(numerator), Decimal(denominator))
        return figures

    async def daily(self, goal: Goal, until: date) -> dict[date, tuple[Decimal, Decimal]]:
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
        rows = await self.session.execute(
            sa_select(
                day,
                _total(f.numerator),
                _total(f.denominator) if f.is_ratio else literal(Decimal(0)),
            )
            .where(*conditions)
            .group_by(day)
        )
        return {
            on: (Decimal(numerator), Decimal(denominator)) for on, numerator, denominator in rows
        }

    async def open_pipeline(self, goal: Goal, after: date) -> tuple[Decimal, Decimal]:
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
            await self.session.execute(
                sa_select(func.coalesce(func.sum(col(CrmRecord.amount)), 0), func.count()).where(
                    *conditions
                )
            )
        ).one()
        return Decimal(value or 0), Decimal(count)

    async def win_rate(self, goal: Goal, until: date) -> Decimal:
        """Won / (won + lost) in the goal's scope over the year up to `until`; 0 without history."""
        conditions = _matching_rows(
            goal, ["deals_won", "deals_lost"], until - WIN_RATE_LOOKBACK, until
        )
        won = func.sum(
            case((col(LedgerEntry.metric) == "deals_won", col(LedgerEntry.amount)), else_=0)
        )
        decided = func.sum(col(LedgerEntry.amount))
        row = (await self.session.execute(sa_select(won, decided).where(*conditions))).one()
        return Decimal(0) if not row[1] else Decimal(row[0]) / Decimal(row[1])


def _figures_statement(
    metric: str,
    of_person: bool,
    goals: Sequence[Goal],
    until: Mapping[str, date],
    projected_only: bool,
) -> Select[str, Decimal, Decimal]:
    f = formula(metric)
    scope = values(
        column("goal_id", Text),
        column("person_id", Text),
        column("org_unit_id", Text),
        column("product_line", Text),
        column("start", Date),
        column("end", Date),
        name="scope",
    ).data(
        [
            (
                goal.id,
                goal.person_id,
                goal.org_unit_id,
                goal.product_line,
                goal.period_start,
                min(goal.period_end, until.get(goal.id, goal.period_end)),
            )
            for goal in goals
        ]
    )
    matches = [
        col(LedgerEntry.metric).in_(sorted(set(f.numerator) | set(f.denominator))),
        col(LedgerEntry.credited_on) >= scope.c.start,
        col(LedgerEntry.credited_on) <= scope.c.end,
        or_(scope.c.product_line.is_(None), col(LedgerEntry.product_line) == scope.c.product_line),
        col(LedgerEntry.person_id) == scope.c.person_id
        if of_person
        else col(LedgerEntry.org_path).contains(cast(array([scope.c.org_unit_id]), ARRAY(Text))),
    ]
    if projected_only:
        matches.append(~exists().where(col(ProjectionQueue.entry_seq) == col(LedgerEntry.seq)))
    return (
        sa_select(
            scope.c.goal_id,
            _total(f.numerator),
            _total(f.denominator) if f.is_ratio else literal(Decimal(0)),
        )
        .select_from(scope.join(LedgerEntry, and_(*matches)))
        .group_by(scope.c.goal_id)
    )
