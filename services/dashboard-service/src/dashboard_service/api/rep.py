"""Rep, "my goals": /me is the signed-in person's page, /people/{id} anyone's page
that the APIs let the viewer see (a manager drilling down to a person); another
rep's is the not-found page. The goal cards and the earnings panel are fragments
the live channel re-fetches; acknowledge, snooze and what-if answer with the
fragment they change (htmx), or send a browser without JavaScript back to the page."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard_service.api.dependencies import (
    PageNotFound,
    Viewer,
    ViewerDep,
    render,
    requires,
    settings_of,
)
from dashboard_service.clients import UpstreamRejected
from dashboard_service.domain.rep import WHAT_IF_ROWS, InvalidWhatIf, what_if_deals
from dashboard_service.service_layer import rep as view
from servicekit.auth import Role

router = APIRouter(
    tags=["rep"],
    dependencies=[requires(Role.REP, Role.MANAGER, Role.PLANNER, Role.ADMIN, Role.VIEWER)],
)


@router.get("/me", name="rep_home")
async def my_page(request: Request, viewer: ViewerDep) -> RedirectResponse:
    if viewer.person_id is None:
        raise PageNotFound()
    return RedirectResponse(
        request.app.url_path_for("rep_goals", person_id=viewer.person_id), status_code=303
    )


@router.get("/people/{person_id}", name="rep_goals")
async def person_page(request: Request, viewer: ViewerDep, person_id: str) -> HTMLResponse:
    page = await view.rep_page(viewer.attain, person_id, settings_of(request).timezone)
    return render(
        request,
        viewer,
        "rep/goals.html",
        {**_context(person_id), "page": page, "what_if_rows": WHAT_IF_ROWS},
    )


@router.get("/people/{person_id}/goals/{goal_id}", name="rep_goal_card")
async def goal_card(
    request: Request, viewer: ViewerDep, person_id: str, goal_id: str
) -> HTMLResponse:
    card = await view.one_goal_card(viewer.attain, goal_id)
    return render(request, viewer, "rep/_goal.html", {**_context(person_id), "card": card})


@router.get("/people/{person_id}/earnings", name="rep_earnings")
async def earnings(request: Request, viewer: ViewerDep, person_id: str) -> HTMLResponse:
    statements = await viewer.attain.incentives.get(f"/people/{person_id}/statements")
    person = await viewer.attain.goals.get(f"/people/{person_id}")
    found = await view.person_earnings(
        viewer.attain, person, statements["data"], settings_of(request).timezone
    )
    return render(request, viewer, "rep/_earnings.html", {**_context(person_id), "earnings": found})


@router.post("/people/{person_id}/alerts/{alert_id}/acknowledge", name="rep_acknowledge")
async def acknowledge(
    request: Request, viewer: ViewerDep, person_id: str, alert_id: str
) -> Response:
    return await _act(
        request, viewer, person_id, alert_id, view.acknowledge(viewer.attain, alert_id)
    )


@router.post("/people/{person_id}/alerts/{alert_id}/snooze", name="rep_snooze")
async def snooze(
    request: Request,
    viewer: ViewerDep,
    person_id: str,
    alert_id: str,
    days: Annotated[int, Form(ge=1, le=30)] = 1,
) -> Response:
    return await _act(
        request, viewer, person_id, alert_id, view.snooze(viewer.attain, alert_id, days)
    )


async def _act(
    request: Request, viewer: Viewer, person_id: str, alert_id: str, action: Any
) -> Response:
    problem = None
    try:
        alert = await action
    except UpstreamRejected as error:
        problem = error.problem
        alert = await viewer.attain.alerts.get(f"/alerts/{alert_id}")
    if not request.headers.get("hx-request"):
        return RedirectResponse(
            request.app.url_path_for("rep_goals", person_id=person_id), status_code=303
        )
    card = await view.one_goal_card(viewer.attain, alert["goal_id"])
    return render(
        request,
        viewer,
        "rep/_goal.html",
        {**_context(person_id), "card": card, "problem": problem},
    )


@router.post("/people/{person_id}/what-if", name="rep_what_if")
async def what_if(
    request: Request,
    viewer: ViewerDep,
    person_id: str,
    period_key: Annotated[str, Form()],
    amount: Annotated[list[str], Form()],
) -> HTMLResponse:
    context: dict[str, Any] = {**_context(person_id), "problem": None, "estimate": None}
    try:
        deals = what_if_deals(amount)
        context["estimate"] = await view.what_if(viewer.attain, person_id, period_key, deals)
    except InvalidWhatIf as error:
        context["problem"] = {"detail": str(error), "title": str(error), "field": error.field}
    except UpstreamRejected as error:
        context["problem"] = error.problem
    return render(request, viewer, "rep/_what_if.html", context)


def _context(person_id: str) -> dict[str, Any]:
    return {"page_person_id": person_id, "now": datetime.now(UTC), "problem": None}
