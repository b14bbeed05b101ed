"""What evaluation reads besides a goal itself: its facts for the rules, its
children of the same metric, the closed periods of its series for
`consecutive_low`, and which goal carries each person's `silence`."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from alert_service.clients.tracking import ProgressFigures
from alert_service.domain import rules
from alert_service.domain.rules import GoalFacts, PeriodResult
from alert_service.store import AlertStore
from attain_contracts.progress import ChildTarget, Milestone

# (metric, org unit, person, product line, granularity, siblings only): the last
# is True for the series of parentless goals, which are each other's siblings.
SeriesKey = tuple[str, str, str | None, str | None, str, bool]


def not_live_reason(goal: Any, day: date) -> str | None:
    if goal.status != "active":
        return "goal_closed"
    if day > goal.period_end:
        return "period_ended"
    if day < goal.period_start:
        return "not_started"
    return None


def goal_facts(
    row: Any, children: Iterable[Any] = (), figures: ProgressFigures | None = None
) -> GoalFacts:
    """From our copy of the goal and its progress, or with `figures` in place of
    the copy's progress (a replay's progress as of its instant)."""
    if figures is not None:
        numerator, denominator = figures.numerator, figures.denominator
    else:
        numerator = row.numerator if row.numerator is not None else Decimal(0)
        denominator = row.denominator
    return GoalFacts(
        goal_id=row.goal_id,
        metric=row.metric,
        direction=row.direction,
        start=row.period_start,
        end=row.period_end,
        target=row.target,
        numerator=numerator,
        denominator=denominator,
        milestones=tuple(
            Milestone(date.fromisoformat(m["on"]), Decimal(m["cumulative_target"]))
            for m in row.milestones
        ),
        children=tuple(ChildTarget(c.period_start, c.period_end, c.target) for c in children),
    )


async def time_children(store: AlertStore, live: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Each goal's children of the same metric: the periods its expected to
    date follows when it has no milestones (as tracking-service does)."""
    children: dict[str, list[Any]] = defaultdict(list)
    if not live:
        return children
    for child in await store.goals.children(live):
        if child.metric == live[child.parent_id].metric:
            children[child.parent_id].append(child)
    return children


def _series_key(row: Any, granularity: str, siblings: bool = False) -> SeriesKey:
    return (row.metric, row.org_unit_id, row.person_id, row.product_line, granularity, siblings)


def _same_scope(a: Any, b: Any) -> bool:
    return (a.org_unit_id, a.person_id, a.product_line) == (
        b.org_unit_id,
        b.person_id,
        b.product_line,
    )


async def closed_series(
    store: AlertStore,
    live: Mapping[str, Any],
    children: Mapping[str, list[Any]],
    days: Mapping[str, date],
) -> dict[str, list[PeriodResult]]:
    """For each goal split into weeks (or else months) of its own scope, the
    closed periods of that series, oldest first. The series runs across parents,
    so two low weeks count as consecutive across a month end. A weekly goal with
    no parent is its own series' current period: its siblings (the parentless
    weekly goals of the same metric and scope, one a week) are the closed ones."""
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
        elif row.parent_id is None and rules.granularity(row.period_start, row.period_end) == (
            "week"
        ):
            watched[goal_id] = _series_key(row, "week", siblings=True)
    if not watched:
        return {}
    first = min(days[goal_id] for goal_id in watched)
    last = max(days[goal_id] for goal_id in watched)
    # Enough history for any `count` a sales org would set (a year of weeks).
    rows = await store.goals.short_ended(
        first - timedelta(days=400),
        last,
        {live[g].org_unit_id for g in watched},
    )
    by_series: dict[SeriesKey, list[Any]] = defaultdict(list)
    for row in rows:
        grain = rules.granularity(row.period_start, row.period_end)
        if grain is not None:
            by_series[_series_key(row, grain)].append(row)
            if row.parent_id is None:
                by_series[_series_key(row, grain, siblings=True)].append(row)
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


async def silence_watch(
    store: AlertStore, live: Mapping[str, Any], days: Mapping[str, date]
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
    for row in await store.goals.of_people_current(persons, first, last):
        candidates[row.person_id].append(row)
    people = await store.org.people(persons)
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
