"""Manager, "my team": a unit's subtree as a grid of people by periods coloured by
pace, the at-risk list with acknowledge and snooze, the funnel, pipeline
coverage and the leaderboard; the same as a wall board for a team's TV.

Managers open the units they manage and everything below (the APIs answer 404
for anything else, shown as the not-found page); planners, admins and viewers
open any unit."""

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard_service.api.dependencies import (
    PageNotFound,
    Viewer,
    ViewerDep,
    render,
    requires,
    settings_of,
)
from dashboard_service.clients import Problem, UpstreamRejected
from dashboard_service.domain.team import DEFAULT_BANDS, wall_cycle
from dashboard_service.service_layer import manager
from servicekit.auth import Role

router = APIRouter(
    tags=["manager"],
    dependencies=[requires(Role.MANAGER, Role.PLANNER, Role.ADMIN, Role.VIEWER)],
)

GridGrain = Literal["month", "week"]
Grain = Annotated[GridGrain, Query(description="the grid's columns")]
SpanKey = Annotated[
    str | None, Query(description="the span the grid covers, e.g. FY2026-Q1; default this quarter")
]
WALL_PANELS = ("grid", "risks", "leaders", "funnel")
WALL_SECONDS_EACH = 15
SNOOZE_DAYS = (1, 3, 7)

T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


def _reads_everything(viewer: Viewer) -> bool:
    return viewer.has_any(Role.PLANNER, Role.ADMIN, Role.VIEWER)


@router.get("/team", name="manager_team")
async def my_team(viewer: ViewerDep) -> Response:
    """The highest unit the person manages (the root for those who read all)."""
    tree = await manager.org(viewer.attain)
    home = manager.home_unit(tree, viewer.person_id, _reads_everything(viewer))
    if home is None:
        raise PageNotFound()
    return RedirectResponse(f"/team/units/{home.id}", status_code=303)


@router.get("/team/units/{unit_id}", name="manager_unit")
async def unit_page(
    request: Request,
    viewer: ViewerDep,
    unit_id: str,
    grain: Grain = "month",
    period: SpanKey = None,
) -> HTMLResponse:
    view = await _view(request, viewer, unit_id, grain, period)
    return render(request, viewer, "manager/team.html", {"view": view, "bands": DEFAULT_BANDS})


@router.get("/team/units/{unit_id}/funnel", name="manager_funnel")
async def funnel_fragment(
    request: Request, viewer: ViewerDep, unit_id: str, period: SpanKey = None
) -> HTMLResponse:
    """The funnel and pipeline coverage, loaded by the page after it is shown."""
    currency = settings_of(request).base_currency
    view = await _checked(manager.funnel_view(viewer.attain, unit_id, period, _now(), currency))
    return render(request, viewer, "manager/_funnel.html", {"view": view})


@router.get("/team/units/{unit_id}/leaders", name="manager_leaders")
async def leaders_fragment(
    request: Request, viewer: ViewerDep, unit_id: str, period: SpanKey = None
) -> HTMLResponse:
    """The leaderboard, loaded by the page after it is shown."""
    currency = settings_of(request).base_currency
    view = await _checked(manager.leaders_view(viewer.attain, unit_id, period, _now(), currency))
    return render(request, viewer, "manager/_leaders.html", {"view": view})


@router.get("/team/units/{unit_id}/wall", name="manager_wall")
async def wall_page(
    request: Request, viewer: ViewerDep, unit_id: str, period: SpanKey = None
) -> HTMLResponse:
    """Large type, no navigation, the panels in turn; every figure live."""
    currency = settings_of(request).base_currency
    now = _now()
    view, funnel, leaders = await asyncio.gather(
        _view(request, viewer, unit_id, "month", period),
        _checked(manager.funnel_view(viewer.attain, unit_id, period, now, currency)),
        _checked(manager.leaders_view(viewer.attain, unit_id, period, now, currency)),
    )
    context = {
        "view": view,
        "funnel": funnel,
        "leaders": leaders,
        "bands": DEFAULT_BANDS,
        "panels": WALL_PANELS,
        "cycle": wall_cycle(WALL_PANELS, WALL_SECONDS_EACH),
    }
    return render(request, viewer, "manager/wall.html", context)


@router.get("/team/units/{unit_id}/rows/{kind}/{row_id}", name="manager_row")
async def row_fragment(
    request: Request,
    viewer: ViewerDep,
    unit_id: str,
    kind: Literal["unit", "person"],
    row_id: str,
    grain: Grain = "month",
    period: SpanKey = None,
    depth: Annotated[int, Query(ge=0, le=2)] = 0,
) -> HTMLResponse:
    """One row of the grid, re-fetched when the live channel says its goals moved."""
    try:
        row, grid = await manager.row_view(
            viewer.attain, kind, row_id, grain, period, _now(), depth
        )
    except manager.InvalidPeriod as error:
        raise UpstreamRejected("dashboard-service", _problem(error)) from error
    # The live row stays a live row; its name and currency are the page's, kept from the grid.
    context = {
        "row": row,
        "grid": grid,
        "unit_id": unit_id,
        "currency": settings_of(request).base_currency,
    }
    return render(request, viewer, "manager/_row.html", context)


@router.post("/team/alerts/{alert_id}/acknowledge", name="manager_acknowledge")
async def acknowledge(request: Request, viewer: ViewerDep, alert_id: str) -> Response:
    return await _act(request, viewer, manager.acknowledge(viewer.attain, alert_id))


@router.post("/team/alerts/{alert_id}/snooze", name="manager_snooze")
async def snooze(
    request: Request,
    viewer: ViewerDep,
    alert_id: str,
    days: Annotated[int, Form(ge=1, le=max(SNOOZE_DAYS))],
) -> Response:
    until = _now() + timedelta(days=days)
    return await _act(request, viewer, manager.snooze(viewer.attain, alert_id, until))


async def _act(request: Request, viewer: Viewer, action: Awaitable[dict[str, Any]]) -> Response:
    """The at-risk row again after alert-service answered, or the page for a plain form."""
    problem = None
    try:
        alert = await action
    except UpstreamRejected as error:  # e.g. already resolved: show why in the row
        problem = error.problem
        alert = await viewer.attain.alerts.get(f"/alerts/{request.path_params['alert_id']}")
    if not request.headers.get("hx-request"):
        return RedirectResponse(request.headers.get("referer") or "/team", status_code=303)
    now = _now()
    risk = await manager.risk_after_action(viewer.attain, alert, now)
    return render(
        request, viewer, "manager/_risk.html", {"risk": risk, "now": now, "problem": problem}
    )


async def _view(
    request: Request, viewer: Viewer, unit_id: str, grain: GridGrain, period: str | None
) -> manager.TeamView:
    currency = settings_of(request).base_currency
    return await _checked(
        manager.team_view(
            viewer.attain,
            unit_id,
            grain,
            period,
            _now(),
            currency,
            person_id=viewer.person_id,
            sees_everything=_reads_everything(viewer),
        )
    )


async def _checked(view: Awaitable[T]) -> T:
    """A `period` that is no period key of the calendar is a 422 naming it."""
    try:
        return await view
    except manager.InvalidPeriod as error:
        raise UpstreamRejected("dashboard-service", _problem(error)) from error


def _problem(error: manager.InvalidPeriod) -> Problem:
    return Problem(422, "Invalid period", str(error), error.field)
