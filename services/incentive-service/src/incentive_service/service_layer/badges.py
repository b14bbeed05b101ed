"""Badges, decided on a closed period's figures."""

from datetime import timedelta
from decimal import Decimal

from attain_contracts import BadgeAwarded, Period
from attain_contracts.calendar import FiscalCalendar, Grain
from incentive_service.domain import standings as ranking
from incentive_service.service_layer import Uow
from incentive_service.service_layer.standings import standings


async def award_badges(uow: Uow, calendar: FiscalCalendar, period: Period, grain: Grain) -> int:
    """Badges are decided on closed figures, company by company (each root of the
    org tree): the quarterly champion, the 100% club for quarters and years, and
    streaks of months at 100% or more."""
    roots = sorted(
        unit.id for unit in (await uow.store.org.units()).values() if unit.parent_id is None
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
    awarded = await uow.store.badges.award(
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
    uow: Uow, calendar: FiscalCalendar, root: str, month: Period, board: list[ranking.Ranked]
) -> list[ranking.BadgeEarned]:
    """Each person's run of closed months up to this one (the longest streak
    badge needs 12)."""
    closed = await uow.store.periods.closed()
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
