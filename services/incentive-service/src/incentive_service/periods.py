"""A period's whole population: the payout run (price every statement of a
period), closing it (lock its statements, award its badges), and the standings
a leaderboard ranks."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import col

from attain_contracts import BadgeAwarded, Money, Period, StatementClosed
from attain_contracts.calendar import FiscalCalendar, Grain
from incentive_service.domain import standings as ranking
from incentive_service.statements import Directory, Plans, StatementEngine, statement_id
from incentive_service.store import queries
from incentive_service.store.tables import ClosedPeriod, Statement
from servicekit.problems import Conflict, InvalidInput
from servicekit.uow import UnitOfWork

LEADERBOARD_METRIC = "revenue"


@dataclass(frozen=True)
class PayoutRun:
    period_key: str
    statements: int
    changed: int
    total: Decimal
    digest: str  # equal on a re-run that found nothing new


async def payout_run(uow: UnitOfWork, calendar: FiscalCalendar, period_key: str) -> PayoutRun:
    """Price every person a plan applies to for the period, and every statement it already has."""
    engine = StatementEngine(uow, calendar)
    period, grain = _plan_period(engine, period_key)
    session = uow.session
    await queries.lock_periods(session, [period_key], shared=False)
    if period_key in await queries.closed_periods(session):
        raise Conflict(f"{period_key} is closed; its statements are locked", field="period_key")
    everyone = [person.id for person in await queries.people(session)]
    plans = Plans.of(await queries.plans(session), await queries.plan_versions(session))
    directory = Directory(await queries.org_units(session), await queries.memberships(session))
    keys = {
        (person_id, period_key)
        for person_id in everyone
        if plans.for_(directory.assignee(person_id, period.end), period, grain) is not None
    }
    keys.update(
        (person, period_key) for person in await queries.people_with_statements(session, period_key)
    )
    changed = await engine.reprice(keys, period_held=True)
    priced = await queries.statements_of_period(session, period_key)
    return PayoutRun(
        period_key=period_key,
        statements=len(priced),
        changed=changed,
        total=sum((s.total for s in priced), Decimal("0.00")),
        digest=_digest_of(priced),
    )


async def close_period(
    uow: UnitOfWork, calendar: FiscalCalendar, period_key: str, closed_by: str
) -> tuple[PayoutRun, int]:
    """Price the period one last time, lock its statements, publish them as
    closed, and award its badges; the run and how many badges were awarded."""
    run = await payout_run(uow, calendar, period_key)
    session = uow.session
    period, grain = _plan_period(StatementEngine(uow, calendar), period_key)
    now = uow.clock.now()
    session.add(
        ClosedPeriod(
            period_key=period_key,
            period_kind=grain,
            period_start=period.start,
            period_end=period.end,
            closed_at=now,
            closed_by=closed_by,
            last_credit_seq=await queries.last_credit_seq(session),
        )
    )
    await session.execute(
        update(Statement)
        .where(col(Statement.period_key) == period_key)
        .values(status="closed", closed_at=now)
    )
    for statement in await queries.statements_of_period(session, period_key):
        uow.publish(
            StatementClosed(
                statement_id=statement_id(statement.person_id, period_key),
                person_id=statement.person_id,
                period_key=period_key,
                total=Money(amount=statement.total, currency=statement.currency),
                closed_at=now,
            )
        )
    awarded = await _award_badges(uow, calendar, period, grain)
    return run, awarded


async def standings(
    uow: UnitOfWork, unit_id: str, period: Period, metric: str = LEADERBOARD_METRIC
) -> list[ranking.Standing]:
    """Everyone in the unit's subtree at the period's end, with their goal's
    target and what the ledger credits them in the period."""
    session = uow.session
    units = await queries.org_units(session)
    subtree = [unit.id for unit in units.values() if unit_id in unit.path]
    members = await queries.members_of(session, subtree, period.end)
    unit_of = {person: unit for unit, people in sorted(members.items()) for person in people}
    return await person_standings(uow, unit_of, period, metric)


async def person_standings(
    uow: UnitOfWork, unit_of: dict[str, str], period: Period, metric: str = LEADERBOARD_METRIC
) -> list[ranking.Standing]:
    """Each person (in their unit) with their goal's target and what the ledger
    credits them in the period."""
    session = uow.session
    if not unit_of:
        return []
    goals = await queries.person_goals(session, unit_of, [metric], period.start, period.end)
    targets: dict[str, Decimal] = {}
    for goal in sorted(goals, key=lambda g: g.goal_id):
        if (goal.period_start, goal.period_end) == (period.start, period.end):
            targets.setdefault(goal.person_id or "", goal.target)
    actuals = await queries.actuals_by_person(session, unit_of, metric, period.start, period.end)
    names = {person.id: person.name for person in await queries.people(session, unit_of)}
    return [
        ranking.Standing(
            person_id=person,
            name=names.get(person, person),
            org_unit_id=unit,
            target=targets.get(person),
            actual=actuals.get(person, Decimal(0)),
        )
        for person, unit in sorted(unit_of.items())
    ]


async def _award_badges(
    uow: UnitOfWork, calendar: FiscalCalendar, period: Period, grain: Grain
) -> int:
    """Badges are decided on closed figures, company by company (each root of the
    org tree): the quarterly champion, the 100% club for quarters and years, and
    streaks of months at 100% or more."""
    session = uow.session
    roots = sorted(
        unit.id for unit in (await queries.org_units(session)).values() if unit.parent_id is None
    )
    key = period.key or ""
    earned: list[ranking.BadgeEarned] = []
    for root in roots:
        board = ranking.leaderboard(await standings(uow, root, period))
        if grain == "quarter":
            earned += ranking.champions(board, key)
        if grain in ("quarter", "year"):
            earned += ranking.club_100(board, key)
        if grain == "month":
            earned += await _streaks(uow, calendar, root, period, board)
    now = uow.clock.now()
    awarded = await queries.award_badges(
        session,
        [
            {
                "badge_id": f"{badge.badge}:{badge.person_id}:{badge.period_key}",
                "person_id": badge.person_id,
                "badge": badge.badge,
                "period_key": badge.period_key,
                "reason": badge.reason,
                "awarded_at": now,
            }
            for badge in {(b.badge, b.person_id, b.period_key): b for b in earned}.values()
        ],
    )
    for badge in awarded:
        uow.publish(
            BadgeAwarded(
                badge_id=badge.badge_id,
                person_id=badge.person_id,
                badge=badge.badge,
                period_key=badge.period_key,
                awarded_at=now,
            )
        )
    return len(awarded)


async def _streaks(
    uow: UnitOfWork, calendar: FiscalCalendar, root: str, month: Period, board: list[ranking.Ranked]
) -> list[ranking.BadgeEarned]:
    """Each person's run of closed months up to this one (the longest streak
    badge needs 12)."""
    closed = await queries.closed_periods(uow.session)
    months = [month]
    while len(months) < max(ranking.STREAKS):
        before = calendar.containing(months[0].start - timedelta(days=1), "month")
        if before.key not in closed:
            break
        months.insert(0, before)
    history: dict[str, list[tuple[str, Decimal | None]]] = {}
    for earlier in months[:-1]:
        by_person = {s.person_id: s.attainment for s in await standings(uow, root, earlier)}
        for ranked in board:
            history.setdefault(ranked.standing.person_id, []).append(
                (earlier.key or "", by_person.get(ranked.standing.person_id))
            )
    earned = []
    for ranked in board:
        person = ranked.standing.person_id
        run = [*history.get(person, []), (month.key or "", ranked.standing.attainment)]
        earned += ranking.streaks(person, run)
    return earned


def _plan_period(engine: StatementEngine, period_key: str) -> tuple[Period, Grain]:
    try:
        found = engine.period(period_key)
    except ValueError as error:
        raise InvalidInput(str(error), field="period_key") from error
    if found is None:
        raise InvalidInput(
            f"{period_key} is not a month, quarter or year; plans price those", field="period_key"
        )
    return found


def _digest_of(statements: list[Statement]) -> str:
    content = "\n".join(
        f"{s.person_id} {s.digest}" for s in sorted(statements, key=lambda s: s.person_id)
    )
    return hashlib.sha256(content.encode()).hexdigest()
