"""Evaluating goals' rules at an explicit instant: the one code path behind the
progress consumer, the scheduled sweep and the admin replay, so replaying an
instant decides what the consumer decided.

A goal is evaluated while it is active and the instant's day (in the goal's
time zone) lies in its period; an alert of a goal that is not (ended, closed,
cancelled, or a replay before it started) resolves, saying why."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from prometheus_client import Histogram
from pydantic import BaseModel

from alert_service.domain.rulebook import InvalidRuleParams, RuleBook, Setting
from alert_service.domain.rules import REGISTRY, RuleName, Situation
from alert_service.service_layer import AlertUnit, alerting
from alert_service.service_layer.alerting import Verdict
from alert_service.service_layer.goal_inputs import (
    closed_series,
    goal_facts,
    not_live_reason,
    silence_watch,
    time_children,
)
from alert_service.settings import AlertSettings
from alert_service.store.tables import Alert
from servicekit.clock import local_day

log = structlog.get_logger()
EVALUATION_SECONDS = Histogram(
    "attain_alert_evaluation_seconds",
    "Time to evaluate a batch of goals, by trigger (progress, sweep, replay)",
    ["trigger"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30),
)


@dataclass(frozen=True)
class Evaluation:
    evaluated: int
    changes: list[alerting.AlertChange]


async def evaluate_goals(
    uow: AlertUnit, settings: AlertSettings, targets: Mapping[str, datetime]
) -> Evaluation:
    """Evaluate each goal in `targets` at its instant, and carry its alerts through
    their lifecycle."""
    if not targets:
        return Evaluation(0, [])
    store = uow.store
    await store.goals.lock(targets)
    goals = {row.goal_id: row for row in await store.goals.with_progress(targets)}
    open_alerts: dict[str, dict[str, Alert]] = defaultdict(dict)
    for alert in await store.alerts.unresolved(goals):
        open_alerts[alert.goal_id][alert.rule] = alert
    units = await store.org.units({row.org_unit_id for row in goals.values()})
    book = RuleBook(
        Setting(s.rule, s.scope, s.scope_id, s.parameters) for s in await store.rules.all()
    )
    days = {goal_id: local_day(targets[goal_id], row.timezone) for goal_id, row in goals.items()}
    live = {
        goal_id: row
        for goal_id, row in goals.items()
        if not_live_reason(row, days[goal_id]) is None
    }
    paths = {
        goal_id: tuple(units[row.org_unit_id].path) if row.org_unit_id in units else ()
        for goal_id, row in goals.items()
    }
    children = await time_children(store, live)
    series = await closed_series(store, live, children, days)
    last_recorded = await silence_watch(store, live, days)
    calendar = (await store.calendar.calendar()).working_week

    verdicts: list[Verdict] = []
    for goal_id, row in goals.items():
        as_of, open_by_rule = targets[goal_id], open_alerts.get(goal_id, {})
        reason = not_live_reason(row, days[goal_id])
        if reason is not None:
            verdicts += [
                Verdict(row, paths[goal_id], rule, None, as_of, reason) for rule in open_by_rule
            ]
            continue
        situation = Situation(
            facts=goal_facts(row, children.get(goal_id, ())),
            day=days[goal_id],
            closed=series.get(goal_id),
            carries_silence=goal_id in last_recorded,
            last_recorded_on=last_recorded.get(goal_id),
            calendar=calendar,
        )
        for rule in REGISTRY.values():
            params = _params(book, rule.name, row, paths[goal_id])
            finding = None if params is None else rule.judge(situation, params)
            if finding is not None or rule.name in open_by_rule:
                verdicts.append(Verdict(row, paths[goal_id], rule.name, finding, as_of))
    changes = await alerting.apply_verdicts(uow, settings, verdicts, open_alerts)
    return Evaluation(len(goals), changes)


async def sweep(uow: AlertUnit, settings: AlertSettings, as_of: datetime) -> Evaluation:
    """Time passing is an event too (ARCHITECTURE.md): every active goal whose
    period holds `as_of`, and every goal with an unresolved alert, at `as_of`;
    then the escalations due by then."""
    day = as_of.astimezone(ZoneInfo("UTC")).date()
    # A goal's day is in its own time zone: at most a day either side of UTC's.
    current = await uow.store.goals.current_ids(day - timedelta(days=1), day + timedelta(days=1))
    unresolved = await uow.store.alerts.unresolved_goal_ids()
    evaluation = await evaluate_goals(
        uow, settings, dict.fromkeys(sorted({*current, *unresolved}), as_of)
    )
    escalated = await alerting.escalate_due(uow, settings, as_of)
    return Evaluation(evaluation.evaluated, evaluation.changes + escalated)


async def scheduled_sweep(
    uow: AlertUnit, settings: AlertSettings, as_of: datetime
) -> Evaluation | None:
    """The sweep at `as_of` (the clock's instant), by whichever replica holds the
    sweep lock (None for the others)."""
    if not await uow.store.goals.try_sweep_lock():
        return None
    with EVALUATION_SECONDS.labels("sweep").time():
        return await sweep(uow, settings, as_of)


async def replay(
    uow: AlertUnit, settings: AlertSettings, as_of: datetime, goal_ids: Sequence[str] | None
) -> Evaluation:
    """Exactly what the sweep (or, with `goal_ids`, the consumer) does at `as_of`."""
    with EVALUATION_SECONDS.labels("replay").time():
        if goal_ids is None:
            return await sweep(uow, settings, as_of)
        return await evaluate_goals(uow, settings, dict.fromkeys(goal_ids, as_of))


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
