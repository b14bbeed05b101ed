"""Evaluating goals' rules at an explicit instant: the one code path behind the
progress consumer, the scheduled sweep and the admin replay, so replaying an
instant decides what the consumer decided.

A goal is evaluated while it is active and the instant's day (in the goal's
time zone) lies in its period; an alert of a goal that is not (ended, closed,
cancelled, or a replay before it started) resolves, saying why."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

import structlog
from prometheus_client import Histogram
from pydantic import BaseModel

from alert_service.clients.tracking import ProgressFigures
from alert_service.domain.lifecycle import Transition, next_transition
from alert_service.domain.rulebook import InvalidRuleParams, RuleBook, Setting
from alert_service.domain.rules import REGISTRY, Finding, RuleName, Situation
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
from attain_contracts.types import Severity
from servicekit.clock import local_day

log = structlog.get_logger()
EVALUATION_SECONDS = Histogram(
    "attain_alert_evaluation_seconds",
    "Time to evaluate a batch of goals, by trigger (progress, sweep, replay)",
    ["trigger"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30),
)


@dataclass(frozen=True)
class Decision:
    """What one rule decided about one goal: `fires` (with its finding), `clear`,
    `off` (disabled, or its settings inconsistent), or `not_live` (the goal is not
    evaluated; `resolution` says why), and what that does to its alert."""

    goal_id: str
    rule: RuleName
    verdict: str
    finding: Finding | None
    transition: str | None
    resolution: str | None = None


@dataclass(frozen=True)
class Evaluation:
    evaluated: int
    changes: list[alerting.AlertChange]
    # Filled by a dry run, which changes nothing.
    decisions: list[Decision] = field(default_factory=list)


class ProgressHistory(Protocol):
    """Goals' progress as of a past instant (tracking-service's ledger)."""

    async def progress_at(
        self, goal_ids: Iterable[str], as_of: datetime
    ) -> Mapping[str, ProgressFigures]: ...


@dataclass(frozen=True)
class _Judgement:
    evaluated: int
    verdicts: list[Verdict]
    open_alerts: dict[str, dict[str, Alert]]
    decisions: list[Decision]


async def evaluate_goals(
    uow: AlertUnit,
    settings: AlertSettings,
    targets: Mapping[str, datetime],
    history: ProgressHistory | None = None,
) -> Evaluation:
    """Evaluate each goal in `targets` at its instant, and carry its alerts through
    their lifecycle. With `history`, a goal whose copy holds progress of a later
    day than its instant's is judged by its progress as of that day instead."""
    if not targets:
        return Evaluation(0, [])
    judged = await _judge(uow, targets, history)
    changes = await alerting.apply_verdicts(uow, settings, judged.verdicts, judged.open_alerts)
    return Evaluation(judged.evaluated, changes)


async def _judge(
    uow: AlertUnit, targets: Mapping[str, datetime], history: ProgressHistory | None
) -> _Judgement:
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
    as_of_figures = await _figures_as_of(history, live, targets, days)

    verdicts: list[Verdict] = []
    decisions: list[Decision] = []
    for goal_id, row in goals.items():
        as_of, open_by_rule = targets[goal_id], open_alerts.get(goal_id, {})
        reason = not_live_reason(row, days[goal_id])
        if reason is not None:
            verdicts += [
                Verdict(row, paths[goal_id], rule, None, as_of, reason) for rule in open_by_rule
            ]
            decisions += [
                Decision(
                    goal_id,
                    rule,
                    "not_live",
                    None,
                    "resolved" if rule in open_by_rule else None,
                    reason,
                )
                for rule in REGISTRY
            ]
            continue
        situation = Situation(
            facts=goal_facts(row, children.get(goal_id, ()), as_of_figures.get(goal_id)),
            day=days[goal_id],
            closed=series.get(goal_id),
            carries_silence=goal_id in last_recorded,
            last_recorded_on=last_recorded.get(goal_id),
            calendar=calendar,
        )
        for rule in REGISTRY.values():
            params = _params(book, rule.name, row, paths[goal_id])
            finding = None if params is None else rule.judge(situation, params)
            open_alert = open_by_rule.get(rule.name)
            if finding is not None or open_alert is not None:
                verdicts.append(Verdict(row, paths[goal_id], rule.name, finding, as_of))
            transition = next_transition(
                cast(Severity, open_alert.severity) if open_alert else None,
                finding.severity if finding else None,
            )
            enabled = params is not None and getattr(params, "enabled", True)
            decisions.append(
                Decision(
                    goal_id,
                    rule.name,
                    "fires" if finding is not None else "clear" if enabled else "off",
                    finding,
                    None if transition is None else str(transition),
                    "cleared" if transition is Transition.RESOLVED else None,
                )
            )
    return _Judgement(len(goals), verdicts, open_alerts, decisions)


async def _figures_as_of(
    history: ProgressHistory | None,
    live: Mapping[str, Any],
    targets: Mapping[str, datetime],
    days: Mapping[str, date],
) -> dict[str, ProgressFigures]:
    """The progress as of each goal's instant where our copy is of a later day.
    A copy of the same day or earlier already is that progress: tracking-service
    counts the credits dated up to the instant's day, and the copy holds every
    credit recorded by its own instant (given it has caught up: `GET /goals/{id}`)."""
    if history is None:
        return {}
    later: dict[datetime, list[str]] = defaultdict(list)
    for goal_id, row in live.items():
        copied = row.progress_as_of
        if copied is not None and local_day(copied, row.timezone) > days[goal_id]:
            later[targets[goal_id]].append(goal_id)
    figures: dict[str, ProgressFigures] = {}
    for as_of, goal_ids in later.items():
        found = await history.progress_at(goal_ids, as_of)
        for goal_id in goal_ids:
            if goal_id in found:
                figures[goal_id] = found[goal_id]
            else:
                # Judged by the copy, as the consumer would: better than nothing.
                log.warning("alert.replay.progress_unknown", goal_id=goal_id, as_of=as_of)
    return figures


async def sweep(uow: AlertUnit, settings: AlertSettings, as_of: datetime) -> Evaluation:
    """Time passing is an event too (ARCHITECTURE.md): every active goal whose
    period holds `as_of`, and every goal with an unresolved alert, at `as_of`;
    then the escalations due by then."""
    evaluation = await evaluate_goals(
        uow, settings, dict.fromkeys(sorted(await _sweep_ids(uow, as_of)), as_of)
    )
    escalated = await alerting.escalate_due(uow, settings, as_of)
    return Evaluation(evaluation.evaluated, evaluation.changes + escalated)


async def _sweep_ids(uow: AlertUnit, as_of: datetime) -> set[str]:
    day = as_of.astimezone(ZoneInfo("UTC")).date()
    # A goal's day is in its own time zone: at most a day either side of UTC's.
    current = await uow.store.goals.current_ids(day - timedelta(days=1), day + timedelta(days=1))
    unresolved = await uow.store.alerts.unresolved_goal_ids()
    return {*current, *unresolved}


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
    uow: AlertUnit,
    settings: AlertSettings,
    as_of: datetime,
    goal_ids: Sequence[str] | None,
    history: ProgressHistory,
    *,
    dry_run: bool = False,
) -> Evaluation:
    """What the sweep (or, with `goal_ids`, the consumer) does at `as_of`, each goal
    judged by its progress as of `as_of` (from `history` where our copy is newer).
    A dry run decides the same and changes nothing: no alert, history, event,
    notification or escalation (the caller does not commit it either)."""
    with EVALUATION_SECONDS.labels("replay").time():
        if goal_ids is None:
            targets = dict.fromkeys(sorted(await _sweep_ids(uow, as_of)), as_of)
        else:
            targets = dict.fromkeys(goal_ids, as_of)
        if dry_run:
            if not targets:
                return Evaluation(0, [])
            judged = await _judge(uow, targets, history)
            return Evaluation(judged.evaluated, [], judged.decisions)
        evaluation = await evaluate_goals(uow, settings, targets, history)
        if goal_ids is not None:
            return evaluation
        escalated = await alerting.escalate_due(uow, settings, as_of)
        return Evaluation(evaluation.evaluated, evaluation.changes + escalated)


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
