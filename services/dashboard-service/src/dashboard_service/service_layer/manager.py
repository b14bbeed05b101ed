"""The manager's "my team" view, assembled from the four APIs as the signed-in
person sees them: the org tree and calendar (goal-service), live progress,
statistics and pipeline (tracking-service), open alerts (alert-service) and the
leaderboard (incentive-service). Independent calls go out together, and the grid
reads whole lists (one request per column, never one per cell), so a region of a
hundred reps costs the same handful of requests as a team of ten.

The page itself is the grid and the at-risk list (`team_view`); the funnel with
pipeline coverage (`funnel_view`) and the leaderboard (`leaders_view`), the slow
reads, are fragments the page loads after it. The org tree, the calendar and
people's names come through the per-token read cache.

Nothing here decides what figures a person may see: every list is the APIs' answer
to the person's token. The page of a unit outside the person's subtree is not found
(`Org.managed_by`, from the org tree goal-service gave them, as the APIs' visibility
rule has it), and the fragments get tracking- and incentive-service's own 404."""

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from attain_contracts import Period
from attain_contracts.calendar import FiscalCalendar, Grain, UnknownPeriodKey
from dashboard_service.clients import Attain, Problem, Upstream, Upstream404
from dashboard_service.domain.team import (
    UNRESOLVED,
    Band,
    Figures,
    Funnel,
    age,
    coverage,
    funnel,
    gap,
    grid_columns,
    left_to_do,
    pace_band,
    ratio,
    roll_up,
    span_of,
)

METRIC = "revenue"  # the grid's metric: what a sales team's goals are first of all
PAGE_SIZE = 1000  # the largest page tracking-service's and alert-service's lists give
RISKS_SHOWN = 10
LEADERS_SHOWN = 10

T = TypeVar("T")


class InvalidPeriod(ValueError):
    """The `period` asked for is no period key of the organisation's calendar."""

    field = "period"


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: str
    parent_id: str | None
    manager_id: str | None
    path: tuple[str, ...]

    @classmethod
    def of(cls, row: dict[str, Any]) -> "Unit":
        return cls(
            id=row["id"],
            name=row["name"],
            kind=row["kind"],
            parent_id=row["parent_id"],
            manager_id=row["manager_id"],
            path=tuple(row["path"]),
        )


@dataclass(frozen=True)
class Cell:
    goal_id: str | None  # None for a unit's cell summed from its people's goals
    actual: Decimal
    target: Decimal
    expected: Decimal
    pace: Decimal | None
    attainment: Decimal | None
    band: Band

    @property
    def rolled_up(self) -> bool:
        return self.goal_id is None

    @property
    def figures(self) -> Figures:
        return Figures(self.actual, self.target, self.expected)

    @classmethod
    def of(cls, progress: dict[str, Any]) -> "Cell":
        pace = _decimal(progress["pace"])
        return cls(
            goal_id=progress["goal_id"],
            actual=Decimal(progress["actual"]),
            target=Decimal(progress["target"]),
            expected=Decimal(progress["expected_to_date"]),
            pace=pace,
            attainment=_decimal(progress["attainment"]),
            band=pace_band(pace),
        )

    @classmethod
    def summed(cls, parts: Iterable["Cell"]) -> "Cell":
        total = roll_up(c.figures for c in parts)
        return cls(
            goal_id=None,
            actual=total.actual,
            target=total.target,
            expected=total.expected,
            pace=total.pace,
            attainment=ratio(total.actual, total.target),
            band=pace_band(total.pace),
        )

    @classmethod
    def joined(cls, parts: Sequence["Cell"]) -> "Cell":
        """One owner's goals of one period key: a week cut at a month end is two
        goals under the week's key, shown as one cell (still the owner's own, named
        by its first part's goal)."""
        if len(parts) == 1:
            return parts[0]
        summed = cls.summed(parts)
        return replace(summed, goal_id=parts[0].goal_id)


def own_cells(goals: Iterable[dict[str, Any]]) -> dict[str, Cell]:
    """One owner's cells by period key, the parts of a key joined."""
    parts: dict[str, list[Cell]] = {}
    for goal in goals:
        parts.setdefault(goal["period_key"], []).append(Cell.of(goal))
    return {key: Cell.joined(cells) for key, cells in parts.items()}


RowKind = Literal["unit", "person"]


@dataclass(frozen=True)
class Row:
    kind: RowKind
    id: str
    name: str
    org_unit_id: str
    depth: int
    span: Cell | None  # the whole span's goal (the quarter), first column
    cells: tuple[Cell | None, ...]  # one per column

    @property
    def live_goal_id(self) -> str | None:
        """Any credit inside the span moves the span's goal, so the row listens to
        that one key instead of one per cell (a page token names every key)."""
        cells = (self.span, *self.cells)
        return next((c.goal_id for c in cells if c is not None and c.goal_id is not None), None)


@dataclass(frozen=True)
class Grid:
    grain: Grain
    span: Period
    columns: tuple[Period, ...]
    current: str | None  # the key of the column today falls in
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Risk:
    alert_id: str
    goal_id: str
    who: str
    metric: str | None
    period_key: str | None
    currency: str | None
    rule: str
    severity: str
    status: str
    opened_at: datetime
    age: timedelta
    pace: Decimal | None
    actual: Decimal
    expected: Decimal
    gap: Decimal
    snoozed_until: datetime | None


@dataclass(frozen=True)
class Leader:
    rank: int | None
    person_id: str
    name: str
    attainment: Decimal | None
    actual: Decimal


@dataclass(frozen=True)
class Pipeline:
    period_key: str | None  # of the unit's goal it covers: the span's, else the year's
    open_value: Decimal | None
    left: Decimal
    coverage: Decimal | None


@dataclass(frozen=True)
class TeamView:
    unit: Unit
    trail: tuple[Unit, ...]  # company → ... → the unit itself
    children: tuple[Unit, ...]
    grid: Grid
    risks: tuple[Risk, ...]
    risk_count: int
    currency: str
    as_of: datetime
    spans: tuple[Period, ...] = field(default=())  # the span before and after, to page through


@dataclass(frozen=True)
class FunnelView:
    funnel: Funnel
    funnel_window: tuple[date, date]
    pipeline: Pipeline | None
    currency: str


@dataclass(frozen=True)
class LeadersView:
    leaders: tuple[Leader, ...]
    currency: str


@dataclass(frozen=True)
class Org:
    units: dict[str, Unit]
    calendar: FiscalCalendar

    def trail(self, unit: Unit) -> tuple[Unit, ...]:
        return tuple(self.units[i] for i in unit.path if i in self.units)

    def managed_by(self, unit: Unit, person_id: str | None) -> bool:
        """The person manages the unit or one above it (the subtrees a manager sees)."""
        return person_id is not None and any(
            self.units[i].manager_id == person_id for i in unit.path if i in self.units
        )

    def children(self, unit_id: str) -> list[Unit]:
        return sorted(
            (u for u in self.units.values() if u.parent_id == unit_id), key=lambda u: u.name
        )


async def org(attain: Attain) -> Org:
    units, calendar = await asyncio.gather(
        attain.goals.kept("every", "/org-units"), attain.goals.kept("get", "/calendar")
    )
    return Org(units={row["id"]: Unit.of(row) for row in units}, calendar=calendar_of(calendar))


def calendar_of(row: dict[str, Any]) -> FiscalCalendar:
    """goal-service's `GET /calendar`."""
    return FiscalCalendar(
        timezone=row["timezone"],
        fiscal_year_start_month=row["fiscal_year_start_month"],
        holidays=frozenset(date.fromisoformat(day) for day in row["holidays"]),
        working_weekends=frozenset(
            date.fromisoformat(day) for day in row.get("working_weekends", ())
        ),
    )


def home_unit(tree: Org, person_id: str | None, sees_everything: bool) -> Unit | None:
    """Where "my team" opens: the highest unit the person manages; the root of the
    tree for those who read everything."""
    managed = [u for u in tree.units.values() if sees_everything or u.manager_id == person_id]
    return min(managed, key=lambda u: (len(u.path), u.name), default=None)


def local_day(calendar: FiscalCalendar, now: datetime) -> date:
    return now.astimezone(ZoneInfo(calendar.timezone)).date()


def span_for(calendar: FiscalCalendar, key: str | None, today: date) -> Period:
    if key is None:
        return span_of(calendar, today)
    try:
        return calendar.period(key)
    except UnknownPeriodKey as error:
        raise InvalidPeriod(str(error)) from error


@dataclass(frozen=True)
class Scope:
    """What each part of the team page starts from: the unit, its span and columns."""

    tree: Org
    unit: Unit
    today: date
    span: Period
    columns: list[Period]
    year: str | None

    @property
    def window(self) -> tuple[date, date]:
        """The funnel's dates: the span up to today."""
        span, today = self.span, self.today
        return (span.start, min(span.end, today)) if span.start <= today else (span.start,) * 2

    @property
    def keys(self) -> list[str]:
        """The span, its year (a unit's goal may be set for the year only, and coverage
        needs one) and the columns."""
        keys = (self.span.key, self.year, *(c.key for c in self.columns))
        return list(dict.fromkeys(k for k in keys if k))


async def scope_of(
    attain: Attain, unit_id: str, grain: Grain, span_key: str | None, now: datetime
) -> Scope:
    tree = await org(attain)
    unit = tree.units.get(unit_id)
    if unit is None:
        raise Upstream404("goal-service", _not_found(unit_id))
    today = local_day(tree.calendar, now)
    span = span_for(tree.calendar, span_key, today)
    columns = grid_columns(tree.calendar, span, grain)
    year = tree.calendar.containing(span.start, "year").key
    return Scope(tree, unit, today, span, columns, year)


async def names_of(attain: Attain, unit_id: str, span_key: str | None) -> dict[str, str]:
    """The people of the unit's leaderboard by id (the names the grid and the at-risk list
    show), through the read cache: names change seldom, the leaderboard is a slow read."""
    board = await attain.incentives.kept(
        "every", f"/org-units/{unit_id}/leaderboard", period=span_key
    )
    return {row["person_id"]: row["name"] for row in board}


async def team_view(
    attain: Attain,
    unit_id: str,
    grain: Grain,
    span_key: str | None,
    now: datetime,
    currency: str,
    *,
    person_id: str | None,
    sees_everything: bool,
) -> TeamView:
    """The grid and the at-risk list. `currency` is the organisation's base currency,
    that revenue is counted in. A unit the person does not manage, nor one above it, is
    not found (unless they read everything): the lists the page reads would answer it
    with only what the person may see rather than with a 404."""
    scope = await scope_of(attain, unit_id, grain, span_key, now)
    tree, unit, span, keys = scope.tree, scope.unit, scope.span, scope.keys
    if not sees_everything and not tree.managed_by(unit, person_id):
        raise Upstream404("goal-service", _not_found(unit_id))
    (progress, names, (risk_count, shown, alert_goals)) = await asyncio.gather(
        _progress_of(attain.tracking, unit.id, keys),
        names_of(attain, unit.id, span.key),
        _risks_with_goals(attain, unit.id),
    )
    by_period = _by_period(progress, keys)
    grid = build_grid(tree, unit, span, scope.columns, by_period, names, scope.today)
    goals = {g["id"]: g for g in alert_goals if g is not None}
    return TeamView(
        unit=unit,
        trail=tree.trail(unit),
        children=tuple(tree.children(unit.id)),
        grid=grid,
        risks=tuple(risk(a, goals.get(a["goal_id"]), names, tree, now) for a in shown),
        risk_count=risk_count,
        currency=currency,
        as_of=now,
        spans=tuple(neighbouring_spans(tree.calendar, span)),
    )


async def funnel_view(
    attain: Attain, unit_id: str, span_key: str | None, now: datetime, currency: str
) -> FunnelView:
    """The funnel of the span up to today, and the pipeline's coverage of what is left of
    the unit's own goal for the span (else its year)."""
    scope = await scope_of(attain, unit_id, "month", span_key, now)
    window = scope.window
    keys = [k for k in (scope.span.key, scope.year) if k]
    statistics, own = await asyncio.gather(
        attain.tracking.get(
            f"/org-units/{unit_id}/statistics",
            start=window[0].isoformat(),
            end=window[1].isoformat(),
        ),
        _unit_goals_of(attain.tracking, scope.unit, keys),
    )
    unit_goal_id = own_goal(_by_period(own, keys), unit_id, keys)
    unit_progress = (
        await _maybe(attain.tracking.get(f"/goals/{unit_goal_id}/progress"))
        if unit_goal_id
        else None
    )
    return FunnelView(
        funnel=funnel({k: Decimal(v) for k, v in statistics["totals"].items()}),
        funnel_window=window,
        pipeline=pipeline_of(unit_progress),
        currency=currency,
    )


async def leaders_view(
    attain: Attain, unit_id: str, span_key: str | None, now: datetime, currency: str
) -> LeadersView:
    scope = await scope_of(attain, unit_id, "month", span_key, now)
    board = await attain.incentives.get(f"/org-units/{unit_id}/leaderboard", period=scope.span.key)
    return LeadersView(
        leaders=tuple(leader(row) for row in board["data"][:LEADERS_SHOWN]), currency=currency
    )


def own_goal(
    by_period: dict[str, list[dict[str, Any]]], unit_id: str, keys: Iterable[str | None]
) -> str | None:
    """The unit's own goal (not a person's) for the first of `keys` it has one for."""
    for key in keys:
        for goal in by_period.get(key or "", ()):
            if goal["person_id"] is None and goal["org_unit_id"] == unit_id:
                return str(goal["goal_id"])
    return None


def neighbouring_spans(calendar: FiscalCalendar, span: Period) -> list[Period]:
    grain = calendar.grain_of(span) or "quarter"
    before = calendar.containing(span.start - timedelta(days=1), grain)
    after = calendar.containing(span.end + timedelta(days=1), grain)
    return [before, after]


def build_grid(
    tree: Org,
    unit: Unit,
    span: Period,
    columns: Sequence[Period],
    by_period: dict[str, list[dict[str, Any]]],
    names: dict[str, str],
    today: date,
) -> Grid:
    """Rows: the unit itself, then each child unit followed by its own children
    and its people, then the people directly in the unit. A team's page is its
    reps; a region's its teams with their reps; the company's its regions with
    their teams. People without a goal in the grid have no row; a unit without a
    goal of its own for a period shows its people's goals summed."""
    owned: dict[tuple[RowKind, str], list[dict[str, Any]]] = {}
    members: dict[str, set[str]] = {}
    below: dict[tuple[str, str], list[Cell]] = {}  # (unit, period) -> its people's cells
    for key, goals in by_period.items():
        for goal in goals:
            person, org_unit_id = goal["person_id"], goal["org_unit_id"]
            scope: tuple[RowKind, str] = ("person", person) if person else ("unit", org_unit_id)
            owned.setdefault(scope, []).append(goal)
            if person:
                members.setdefault(org_unit_id, set()).add(person)
                home = tree.units.get(org_unit_id)
                for ancestor in home.path if home else (org_unit_id,):
                    below.setdefault((ancestor, key), []).append(Cell.of(goal))
    cells = {scope: own_cells(goals) for scope, goals in owned.items()}

    def cell_of(kind: RowKind, id_: str, key: str | None) -> Cell | None:
        if key is None:
            return None
        own = cells.get((kind, id_), {}).get(key)
        if own is not None or kind == "person":
            return own
        parts = below.get((id_, key))
        return Cell.summed(parts) if parts else None

    def row(kind: RowKind, id_: str, name: str, org_unit_id: str, depth: int) -> Row:
        return Row(
            kind=kind,
            id=id_,
            name=name,
            org_unit_id=org_unit_id,
            depth=depth,
            span=cell_of(kind, id_, span.key),
            cells=tuple(cell_of(kind, id_, c.key) for c in columns),
        )

    def people(unit_id: str, depth: int) -> list[Row]:
        ids = sorted(members.get(unit_id, ()), key=lambda p: (names.get(p, p), p))
        return [row("person", p, names.get(p, p), unit_id, depth) for p in ids]

    rows = [row("unit", unit.id, unit.name, unit.id, 0)]
    for child in tree.children(unit.id):
        rows.append(row("unit", child.id, child.name, child.id, 1))
        for grandchild in tree.children(child.id):
            rows.append(row("unit", grandchild.id, grandchild.name, grandchild.id, 2))
        rows.extend(people(child.id, 2))
    rows.extend(people(unit.id, 1))
    current = next((c.key for c in columns if c.start <= today <= c.end), None)
    return Grid(
        grain=_grain(tree.calendar, columns),
        span=span,
        columns=tuple(columns),
        current=current,
        rows=tuple(rows),
    )


def _grain(calendar: FiscalCalendar, columns: Sequence[Period]) -> Grain:
    return (calendar.grain_of(columns[0]) if columns else None) or "month"


async def row_view(
    attain: Attain,
    kind: RowKind,
    row_id: str,
    grain: Grain,
    span_key: str | None,
    now: datetime,
    depth: int,
) -> tuple[Row, Grid]:
    """One row of the grid again, for the live channel: the owner's goals in one list,
    fetched together with the calendar (and, for a person, their name)."""
    if kind == "person":
        calendar_row, answer, person = await asyncio.gather(
            attain.goals.get("/calendar"),
            attain.tracking.get("/progress", owner_id=row_id, metric=METRIC, limit=PAGE_SIZE),
            attain.goals.get(f"/people/{row_id}"),
        )
        name = person["name"]
    else:
        calendar_row, unit_row = await asyncio.gather(
            attain.goals.get("/calendar"), attain.goals.get(f"/org-units/{row_id}")
        )
        unit = Unit.of(unit_row)
        if unit.manager_id is None:
            raise Upstream404("goal-service", _not_found(row_id))
        answer = await attain.tracking.get(
            "/progress", owner_id=unit.manager_id, metric=METRIC, limit=PAGE_SIZE
        )
        name = unit.name
    calendar = calendar_of(calendar_row)
    today = local_day(calendar, now)
    span = span_for(calendar, span_key, today)
    columns = grid_columns(calendar, span, grain)
    mine = [
        g
        for g in answer["data"]
        if (
            g["person_id"] == row_id
            if kind == "person"
            else g["person_id"] is None and g["org_unit_id"] == row_id
        )
    ]
    by_key = own_cells(mine)
    one = Row(
        kind=kind,
        id=row_id,
        name=name,
        org_unit_id=row_id if kind == "unit" else (mine[0]["org_unit_id"] if mine else ""),
        depth=depth,
        span=by_key.get(span.key) if span.key else None,
        cells=tuple(by_key.get(c.key) if c.key else None for c in columns),
    )
    current = next((c.key for c in columns if c.start <= today <= c.end), None)
    return one, Grid(_grain(calendar, columns), span, tuple(columns), current, (one,))


def _unique_goals(alerts: Iterable[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(a["goal_id"] for a in alerts))


async def _unit_goals_of(
    tracking: Upstream, unit: Unit, period_keys: list[str]
) -> list[dict[str, Any]]:
    """The unit's own goals for the periods: those its manager owns (one short list,
    where the unit's whole subtree would be every rep's goal)."""
    if unit.manager_id is None or not period_keys:
        return []
    return await _all(
        tracking, "/progress", owner_id=unit.manager_id, period_key=period_keys, metric=METRIC
    )


async def _progress_of(
    tracking: Upstream, unit_id: str, period_keys: list[str]
) -> list[dict[str, Any]]:
    """The subtree's goals of every period the grid shows, in one list (tracking-service
    takes `period_key` more than once): one upstream round, however many columns."""
    return await _all(
        tracking, "/progress", org_unit_id=unit_id, period_key=period_keys, metric=METRIC
    )


def _by_period(
    progress: Iterable[dict[str, Any]], keys: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    by_period: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    for goal in progress:
        if goal["period_key"] in by_period:
            by_period[goal["period_key"]].append(goal)
    return by_period


async def _risks_with_goals(
    attain: Attain, unit_id: str
) -> tuple[int, list[dict[str, Any]], list[dict[str, Any] | None]]:
    """How many alerts are unresolved, the ones shown (the largest gaps, in alert-service's
    at-risk order) and their goals: the goals are asked for as soon as the alerts are in,
    while the grid's list is still on its way (after it, they were a second round of the
    page's)."""
    answer = await attain.alerts.get(
        "/alerts", org_unit_id=unit_id, status=list(UNRESOLVED), order="at_risk", limit=RISKS_SHOWN
    )
    shown: list[dict[str, Any]] = answer["data"]
    goals = await asyncio.gather(
        *(_maybe(attain.goals.get(f"/goals/{g}")) for g in _unique_goals(shown))
    )
    return int(answer["count"]), shown, list(goals)


async def _all(upstream: Upstream, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a `{data, count}` list: the first tells how many more to ask for
    at once."""
    first = await upstream.get(path, limit=PAGE_SIZE, offset=0, **params)
    rows: list[dict[str, Any]] = list(first["data"])
    rest = await asyncio.gather(
        *(
            upstream.get(path, limit=PAGE_SIZE, offset=offset, **params)
            for offset in range(PAGE_SIZE, int(first["count"]), PAGE_SIZE)
        )
    )
    for page in rest:
        rows.extend(page["data"])
    return rows


async def _maybe(call: Awaitable[T]) -> T | None:
    """A detail the page can do without (a goal archived since its alert opened)."""
    try:
        return await call
    except Upstream404:
        return None


def risk(
    alert: dict[str, Any],
    goal: dict[str, Any] | None,
    names: dict[str, str],
    tree: Org,
    now: datetime,
) -> Risk:
    opened_at = datetime.fromisoformat(alert["opened_at"])
    person = goal["person_id"] if goal else alert["owner_id"]
    unit = tree.units.get(alert["org_unit_id"])
    if goal is not None and goal["person_id"] is None:
        who = unit.name if unit else alert["org_unit_id"]
    else:
        who = names.get(person, person)
    actual, expected = Decimal(alert["actual"]), Decimal(alert["expected"])
    snoozed = alert.get("snoozed_until")
    return Risk(
        alert_id=alert["id"],
        goal_id=alert["goal_id"],
        who=who,
        metric=goal["metric"] if goal else None,
        period_key=goal["period_key"] if goal else None,
        currency=goal.get("currency") if goal else None,
        rule=alert["rule"],
        severity=alert["severity"],
        status=alert["status"],
        opened_at=opened_at,
        age=age(opened_at, now),
        pace=_decimal(alert["pace"]),
        actual=actual,
        expected=expected,
        gap=gap(actual, expected),
        snoozed_until=datetime.fromisoformat(snoozed) if snoozed else None,
    )


def pipeline_of(progress: dict[str, Any] | None) -> Pipeline | None:
    if progress is None:
        return None
    actual, target = Decimal(progress["actual"]), Decimal(progress["target"])
    open_value = _decimal(progress.get("open_pipeline"))
    return Pipeline(
        period_key=progress["period_key"],
        open_value=open_value,
        left=left_to_do(actual, target),
        coverage=None if open_value is None else coverage(open_value, actual, target),
    )


def leader(row: dict[str, Any]) -> Leader:
    return Leader(
        rank=row["rank"],
        person_id=row["person_id"],
        name=row["name"],
        attainment=_decimal(row["attainment"]),
        actual=Decimal(row["actual"]),
    )


async def acknowledge(attain: Attain, alert_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = await attain.alerts.post(f"/alerts/{alert_id}/acknowledge", json={})
    return answer


async def snooze(attain: Attain, alert_id: str, until: datetime) -> dict[str, Any]:
    answer: dict[str, Any] = await attain.alerts.post(
        f"/alerts/{alert_id}/snooze", json={"until": until.isoformat()}
    )
    return answer


async def risk_after_action(attain: Attain, alert: dict[str, Any], now: datetime) -> Risk:
    """The at-risk row again, once alert-service has answered an action."""
    tree, goal = await asyncio.gather(
        org(attain), _maybe(attain.goals.get(f"/goals/{alert['goal_id']}"))
    )
    names: dict[str, str] = {}
    if goal is not None and goal["person_id"] is not None:
        person = await _maybe(attain.goals.get(f"/people/{goal['person_id']}"))
        if person is not None:
            names[person["id"]] = person["name"]
    return risk(alert, goal, names, tree, now)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _not_found(unit_id: str) -> Problem:
    return Problem(404, "Not found", f"no org unit {unit_id}", None)
