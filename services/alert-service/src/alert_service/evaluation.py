"""Evaluating goals' rules at an explicit instant: the one code path behind the
progress consumer, the scheduled sweep and the admin replay, so replaying an
instant decides what the consumer decided.

A goal is evaluated while it is active and the instant's day (in the goal's
time zone) lies in its period; an alert of a goal that is not (ended, closed,
cancelled, or a replay before it started) resolves, saying why."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

import structlog
from pydantic import BaseModel

from alert_service import alerting
from alert_service.domain import rules
from alert_service.domain.rulebook import InvalidRuleParams, RuleBook, Setting
from alert_service.domain.rules import Finding, GoalFacts, PeriodResult, RuleName
from alert_service.settings import AlertSettings
from alert_service.store import queries
from alert_service.store.tables import Alert
from attain_contracts.progress import ChildTarget, Milestone
from servicekit.uow import UnitOfWork

log = structlog.get_logger()

SeriesKey = tuple[str, str, str | None, str | None, str]


@dataclass(frozen=True)
class Verdict:
    """What a rule found about a goal at an instant; no finding resolves the
    goal's alert of that rule, for `resolution`'s reason."""

    goal: Any  # a goal row (store.queries.goals)
    org_path: tuple[str, ...]
    rule: RuleName
    finding: Finding | None
    as_of: datetime
    resolution: str = "cleared"


@dataclass(frozen=True)
class Evaluation:
    evaluated: int
    changes: list[alerting.AlertChange]


async def evaluate_goals(
    uow: UnitOfWork, settings: AlertSettings, targets: Mapping[str, datetime]
) -> Evaluation:
    """Evaluate each goal in `targets` at its instant, and carry its alerts through
    their lifecycle."""
    if not targets:
        return Evaluation(0, [])
    session = uow.session
    await queries.lock_goals(session, targets)
    goals = {row.goal_id: row for row in await queries.goals(session, targets)}
    open_alerts: dict[str, dict[str, Alert]] = defaultdict(dict)
    for alert in await queries.unresolved_alerts(session, goals):
        open_alerts[alert.goal_id][alert.rule] = alert
    units = await queries.org_units(session, {row.org_unit_id for row in goals.values()})
    book = RuleBook(
        Setting(s.rule, s.scope, s.scope_id, s.parameters)
        for s in await queries.rule_settings(session)
    )
    days = {goal_id: local_day(row.timezone, targets[goal_id]) for goal_id, row in goals.items()}
    live = {
        goal_id: row
        for goal_id, row in goals.items()
        if not_live_reason(row, days[goal_id]) is None
    }
    paths = {
        goal_id: tuple(units[row.org_unit_id].path) if row.org_unit_id in units else ()
        for goal_id, row in goals.items()
    }
    children = await _time_children(session, live)
    series = await _closed_series(session, live, children, days)
    last_recorded = await _silence_watch(session, live, days)

    verdicts: list[Verdict] = []
    for goal_id, row in goals.items():
        as_of, open_by_rule = targets[goal_id], open_alerts.get(goal_id, {})
        reason = not_live_reason(row, days[goal_id])
        if reason is not None:
            verdicts += [
                Verdict(row, paths[goal_id], cast(RuleName, rule), None, as_of, reason)
                for rule in open_by_rule
            ]
            continue
        facts = goal_facts(row, children.get(goal_id, ()))
        for rule in rules.RULES:
            params = _params(book, rule, row, paths[goal_id])
            finding = None
            if params is not None:
                finding = _apply(
                    rule, facts, days[goal_id], params, series.get(goal_id), last_recorded, row
                )
            if finding is not None or rule in open_by_rule:
                verdicts.append(Verdict(row, paths[goal_id], rule, finding, as_of))
    changes = await alerting.apply_verdicts(uow, settings, verdicts, open_alerts)
    return Evaluation(len(goals), changes)


async def sweep(uow: UnitOfWork, settings: AlertSettings, as_of: datetime) -> Evaluation:
    """Time passing is an event too (ARCHITECTURE.md): every active goal whose
    period holds `as_of`, and every goal with an unresolved alert, at `as_of`;
    then the escalations due by then."""
    day = as_of.astimezone(ZoneInfo("UTC")).date()
    # A goal's day is in its own time zone: at most a day either side of UTC's.
    current = await queries.current_goal_ids(
        uow.session, day - timedelta(days=1), day + timedelta(days=1)
    )
    unresolved = await queries.unresolved_goal_ids(uow.session)
    evaluation = await evaluate_goals(
        uow, settings, dict.fromkeys(sorted({*current, *unresolved}), as_of)
    )
    escalated = await alerting.escalate_due(uow, settings, as_of)
    return Evaluation(evaluation.evaluated, evaluation.changes + escalated)


def local_day(timezone: str, as_of: datetime) -> date:
    return as_of.astimezone(ZoneInfo(timezone)).date()


def not_live_reason(goal: Any, day: date) -> str | None:
    if goal.status != "active":
        return "goal_closed"
    if day > goal.period_end:
        return "period_ended"
    if day < goal.period_start:
        return "not_started"
    return None


def goal_facts(row: Any, children: Iterable[Any] = ()) -> GoalFacts:
    return GoalFacts(
        goal_id=row.goal_id,
        metric=row.metric,
        direction=row.direction,
        start=row.period_start,
        end=row.period_end,
        target=row.target,
        numerator=row.numerator if row.numerator is not None else Decimal(0),
        denominator=row.denominator,
        milestones=tuple(
            Milestone(date.fromisoformat(m["on"]), Decimal(m["cumulative_target"]))
            for m in row.milestones
        ),
        children=tuple(ChildTarget(c.period_start, c.period_end, c.target) for c in children),
    )


def _params(book: RuleBook, rule: RuleName, row: Any, path: tuple[str, ...]) -> BaseModel | None:
    try:
        return book.params(rule, row.metric, path, row.goal_id)
    except InvalidRuleParams as error:
        # Each setting was valid alone; together they are not. The rule stays
        # quiet for this goal and ops see why, rather than a consumer that fails.
        log.warning(
            "alert.rule.misconfigured",
            rule=rule,
            goal_id=row.goal_id,
            field=error.field,
            reason=error.reason,
        )
        return None


def _apply(
    rule: RuleName,
    facts: GoalFacts,
    day: date,
    params: BaseModel,
    closed: list[PeriodResult] | None,
    last_recorded: Mapping[str, date | None],
    row: Any,
) -> Finding | None:
    if rule == "pace":
        return rules.pace(facts, day, cast(rules.PaceParams, params))
    if rule == "ahead":
        return rules.ahead(facts, day, cast(rules.AheadParams, params))
    if rule == "forecast":
        return rules.forecast(facts, day, cast(rules.ForecastParams, params))
    if rule == "ratio_floor":
        return rules.ratio_floor(facts, day, cast(rules.RatioFloorParams, params))
    if rule == "consecutive_low":
        if closed is None:
            return None
        return rules.consecutive_low(facts, closed, cast(rules.ConsecutiveLowParams, params))
    if row.goal_id not in last_recorded:
        return None
    return rules.silence(facts, day, last_recorded[row.goal_id], cast(rules.SilenceParams, params))


async def _time_children(session: Any, live: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Each goal's children of the same metric: the periods its expected to
    date follows when it has no milestones (as tracking-service does)."""
    children: dict[str, list[Any]] = defaultdict(list)
    if not live:
        return children
    for child in await queries.children(session, live):
        if child.metric == live[child.parent_id].metric:
            children[child.parent_id].append(child)
    return children


def _series_key(row: Any, granularity: str) -> SeriesKey:
    return (row.metric, row.org_unit_id, row.person_id, row.product_line, granularity)


def _same_scope(a: Any, b: Any) -> bool:
    return (a.org_unit_id, a.person_id, a.product_line) == (
        b.org_unit_id,
        b.person_id,
        b.product_line,
    )


async def _closed_series(
    session: Any,
    live: Mapping[str, Any],
    children: Mapping[str, list[Any]],
    days: Mapping[str, date],
) -> dict[str, list[PeriodResult]]:
    """For each goal split into weeks (or else months) of its own scope, the
    closed periods of that series, oldest first. The series runs across parents,
    so two low weeks count as consecutive across a month end."""
    watched: dict[str, SeriesKey] = {}
    for goal_id, row in live.items():
        grains = {
            rules.granularity(c.period_start, c.period_end)
            for c in children.get(goal_id, ())
            if _same_scope(c, row)
        }
        grain = "week" if "week" in grains else "month" if "month" in grains else None
        if grain is not None:
            watched[goal_id] = _series_key(row, grain)
    if not watched:
        return {}
    first = min(days[goal_id] for goal_id in watched)
    last = max(days[goal_id] for goal_id in watched)
    # Enough history for any `count` a sales org would set (a year of weeks).
    rows = await queries.short_goals_ended(
        session,
        first - timedelta(days=400),
        last,
        {live[g].org_unit_id for g in watched},
    )
    by_series: dict[SeriesKey, list[Any]] = defaultdict(list)
    for row in rows:
        grain = rules.granularity(row.period_start, row.period_end)
        if grain is not None:
            by_series[_series_key(row, grain)].append(row)
    for periods in by_series.values():
        periods.sort(key=lambda row: (row.period_end, row.period_start))
    return {
        goal_id: [
            PeriodResult(
                goal_id=row.goal_id,
                start=row.period_start,
                end=row.period_end,
                target=row.target,
                actual=_actual(row),
                direction=row.direction,
            )
            for row in by_series.get(key, ())
            if row.period_end < days[goal_id]
        ]
        for goal_id, key in watched.items()
    }


def _actual(row: Any) -> Decimal:
    numerator = row.numerator if row.numerator is not None else Decimal(0)
    if row.denominator is None:
        return cast(Decimal, numerator)
    return Decimal(0) if row.denominator == 0 else cast(Decimal, numerator / row.denominator)


async def _silence_watch(
    session: Any, live: Mapping[str, Any], days: Mapping[str, date]
) -> dict[str, date | None]:
    """The goal that carries each person's `silence` alert, with the day they last
    recorded something. One goal per person, not one per goal, or a silent rep
    would hear it eight times: their longest active goal (then by metric and id),
    which stays the same for weeks."""
    persons = {row.person_id for row in live.values() if row.person_id is not None}
    if not persons:
        return {}
    first, last = min(days.values()), max(days.values())
    candidates: dict[str, list[Any]] = defaultdict(list)
    for row in await queries.person_goals_current(session, persons, first, last):
        candidates[row.person_id].append(row)
    people = await queries.people(session, persons)
    watch: dict[str, date | None] = {}
    for goal_id, row in live.items():
        if row.person_id is None:
            continue
        day = days[goal_id]
        holding = [c for c in candidates[row.person_id] if c.period_start <= day <= c.period_end]
        chosen = min(
            holding,
            key=lambda c: (-(c.period_end - c.period_start).days, c.metric, c.goal_id),
            default=None,
        )
        if chosen is not None and chosen.goal_id == goal_id:
            person = people.get(row.person_id)
            watch[goal_id] = person.last_recorded_on if person is not None else None
    return watch
