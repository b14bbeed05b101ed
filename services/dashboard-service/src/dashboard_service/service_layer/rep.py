"""A rep's "my goals" page, assembled from the four APIs as the signed-in person
sees them: the person and their active goals (goal-service), each goal's live
progress and its chart series (tracking-service), its unresolved alerts
(alert-service), and the current statement, what is needed for the next tier,
badges and the team's leaderboard (incentive-service). Independent calls go out
together. Nothing here decides who may see what: a person the viewer may not see
is answered 404 by incentive-service, shown as the not-found page."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dashboard_service.clients import Attain, Upstream404
from dashboard_service.domain.rep import (
    Series,
    Standing,
    current_statement,
    current_unit,
    progress_series,
    standing_of,
)
from dashboard_service.domain.team import UNRESOLVED, Band, left_to_do, pace_band


@dataclass(frozen=True)
class GoalCard:
    goal: dict[str, Any]
    progress: dict[str, Any]
    band: Band
    left: Decimal
    series: Series
    alerts: list[dict[str, Any]]

    @property
    def currency(self) -> str | None:
        currency: str | None = self.goal.get("currency")
        return currency

    @property
    def meter_percent(self) -> int:
        """The attainment bar's width, 0 to 100."""
        attainment = self.progress.get("attainment")
        ratio = Decimal(0) if attainment is None else Decimal(str(attainment))
        return int(min(max(ratio, Decimal(0)), Decimal(1)) * 100)


@dataclass(frozen=True)
class Earnings:
    statement: dict[str, Any] | None
    next_steps: list[dict[str, Any]]
    badges: list[dict[str, Any]]
    standing: Standing | None
    unit_name: str | None


@dataclass(frozen=True)
class RepPage:
    person: dict[str, Any]
    cards: list[GoalCard] = field(default_factory=list)
    earnings: Earnings | None = None


async def rep_page(attain: Attain, person_id: str, timezone: str) -> RepPage:
    # incentive-service answers 404 for a person the viewer may not see: asked first,
    # so another rep's page is the not-found page and nothing else is fetched.
    statements = await attain.incentives.get(f"/people/{person_id}/statements")
    person, goals = await asyncio.gather(
        attain.goals.get(f"/people/{person_id}"),
        attain.goals.get("/goals", owner_id=person_id, status="active", limit=1000),
    )
    cards, earnings = await asyncio.gather(
        asyncio.gather(*(goal_card(attain, goal) for goal in goals["goals"])),
        person_earnings(attain, person, statements["data"], timezone),
    )
    return RepPage(person=person, cards=sorted(cards, key=_card_order), earnings=earnings)


def _card_order(card: GoalCard) -> tuple[str, str]:
    return (str(card.goal["period_end"]), str(card.goal["id"]))


async def goal_card(attain: Attain, goal: dict[str, Any]) -> GoalCard:
    # Only the unresolved, every page: a goal collects many resolved alerts, and a first
    # page of all of them can leave out the one just opened.
    progress, series, unresolved = await asyncio.gather(
        attain.tracking.get(f"/goals/{goal['id']}/progress"),
        attain.tracking.get(f"/goals/{goal['id']}/series"),
        attain.alerts.every("/alerts", goal_id=goal["id"], status=list(UNRESOLVED)),
    )
    pace = progress.get("pace")
    return GoalCard(
        goal=goal,
        progress=progress,
        band=pace_band(None if pace is None else Decimal(str(pace))),
        left=left_to_do(Decimal(str(progress["actual"])), Decimal(str(progress["target"]))),
        series=progress_series(series["points"]),
        alerts=[_with_snooze(a) for a in unresolved],
    )


def _with_snooze(alert: dict[str, Any]) -> dict[str, Any]:
    until = alert.get("snoozed_until")
    snoozed = until is not None and datetime.fromisoformat(until) > datetime.now(UTC)
    return {**alert, "snoozed": snoozed}


async def one_goal_card(attain: Attain, goal_id: str) -> GoalCard:
    return await goal_card(attain, await attain.goals.get(f"/goals/{goal_id}"))


async def person_earnings(
    attain: Attain,
    person: dict[str, Any],
    statements: list[dict[str, Any]],
    timezone: str,
) -> Earnings:
    person_id = person["id"]
    today = datetime.now(UTC).astimezone(ZoneInfo(timezone)).date()
    unit_id = current_unit(person["memberships"], today)
    summary = current_statement(statements)
    badges = await attain.incentives.get(f"/people/{person_id}/badges")
    if summary is None:
        return Earnings(None, [], badges["data"], None, None)
    period_key = summary["period_key"]
    statement, estimate = await asyncio.gather(
        attain.incentives.get(f"/people/{person_id}/statements/{period_key}"),
        attain.incentives.post(
            f"/people/{person_id}/estimates", json={"period_key": period_key, "deals": []}
        ),
    )
    standing = unit_name = None
    if unit_id is not None:
        try:
            board, unit = await asyncio.gather(
                attain.incentives.get(f"/org-units/{unit_id}/leaderboard", period=period_key),
                attain.goals.get(f"/org-units/{unit_id}"),
            )
        except Upstream404:
            board, unit = {"data": []}, None
        standing = standing_of(board["data"], person_id)
        unit_name = unit["name"] if unit else None
    return Earnings(statement, estimate["next_steps"], badges["data"], standing, unit_name)


async def what_if(
    attain: Attain, person_id: str, period_key: str, amounts: list[Decimal]
) -> dict[str, Any]:
    estimate: dict[str, Any] = await attain.incentives.post(
        f"/people/{person_id}/estimates",
        json={"period_key": period_key, "deals": [{"amount": str(a)} for a in amounts]},
    )
    return estimate


async def acknowledge(attain: Attain, alert_id: str) -> dict[str, Any]:
    alert: dict[str, Any] = await attain.alerts.post(f"/alerts/{alert_id}/acknowledge", json={})
    return alert


async def snooze(attain: Attain, alert_id: str, days: int) -> dict[str, Any]:
    until = datetime.now(UTC) + timedelta(days=days)
    alert: dict[str, Any] = await attain.alerts.post(
        f"/alerts/{alert_id}/snooze", json={"until": until.isoformat()}
    )
    return alert
