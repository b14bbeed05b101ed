"""Planning (planners and admins): the goal tree, the plan builder with its
preview and apply, re-plan proposals, imports of org trees and targets, and a
goal's versions. goal-service decides what each person may see and apply."""

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard_service.api.dependencies import PageNotFound, ViewerDep, render, requires
from dashboard_service.domain.planning import PlanForm
from dashboard_service.service_layer import planner
from servicekit.auth import Role

router = APIRouter(tags=["planner"], dependencies=[requires(Role.PLANNER, Role.ADMIN)])

GRAINS = ("year", "half", "quarter", "month", "week")
WEIGHT_METHODS = ("equal", "given", "history", "potential", "capacity", "blend")
PROFILES = ("working_days", "calendar_days", "last_year", "percentages")
TARGETS = ("auto", "units", "people")
CHOICES = {
    "grains": GRAINS,
    "methods": WEIGHT_METHODS,
    "profiles": PROFILES,
    "targets": TARGETS,
}


@router.get("/planning", name="planner_home")
async def planning_page(
    request: Request,
    viewer: ViewerDep,
    org_unit_id: str | None = None,
    period_key: str | None = None,
) -> HTMLResponse:
    home = await planner.planning_home(viewer.attain, org_unit_id, period_key)
    return render(request, viewer, "planner/index.html", {"home": home})


@router.get("/planning/goals/{goal_id}", name="planner_goal")
async def goal_page(
    request: Request, viewer: ViewerDep, goal_id: str, applied: str | None = None
) -> HTMLResponse:
    view = await planner.goal_tree(viewer.attain, goal_id)
    return _goal_page(request, viewer, view, planner.PlanOutcome(PlanForm()), applied=applied)


@router.post("/planning/goals/{goal_id}/plans", name="planner_plan")
async def submit_plan(
    request: Request,
    viewer: ViewerDep,
    goal_id: str,
    action: Annotated[str, Form()] = "preview",
    org: Annotated[bool, Form()] = False,
    org_method: Annotated[str, Form()] = "equal",
    org_to: Annotated[str, Form()] = "auto",
    org_stretch: Annotated[str, Form()] = "",
    org_weights: Annotated[str, Form()] = "",
    org_floors: Annotated[str, Form()] = "",
    org_caps: Annotated[str, Form()] = "",
    org_alpha: Annotated[str, Form()] = "",
    time: Annotated[bool, Form()] = False,
    time_grains: Annotated[list[str] | None, Form()] = None,
    time_profile: Annotated[str, Form()] = "working_days",
    time_months: Annotated[str, Form()] = "",
    steps_json: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Preview (the dry run's table) or apply; applying answers with the new tree."""
    form = PlanForm(
        org=org,
        org_method=org_method,
        org_to=org_to,
        org_stretch=org_stretch,
        org_weights=org_weights,
        org_floors=org_floors,
        org_caps=org_caps,
        org_alpha=org_alpha,
        time=time,
        time_grains=tuple(time_grains or ()),
        time_profile=time_profile,
        time_months=time_months,
        steps_json=steps_json,
        reason=reason,
    )
    view = await planner.goal_tree(viewer.attain, goal_id)
    outcome = await planner.submit_plan(viewer.attain, view, form, apply=action == "apply")
    if outcome.applied is not None and not outcome.refused:
        target = request.app.url_path_for("planner_goal", goal_id=goal_id)
        return RedirectResponse(f"{target}?applied={outcome.applied['id']}", status_code=303)
    status_code = 422 if outcome.refused else 200
    return _goal_page(request, viewer, view, outcome, status_code=status_code)


def _goal_page(
    request: Request,
    viewer: ViewerDep,
    view: planner.TreeView,
    outcome: planner.PlanOutcome,
    *,
    applied: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        viewer,
        "planner/goal.html",
        {"view": view, "outcome": outcome, "applied": applied, "choices": CHOICES},
        status_code=status_code,
    )


@router.post("/planning/plans/{plan_id}/{decision}", name="planner_decide")
async def decide(
    request: Request,
    viewer: ViewerDep,
    plan_id: str,
    decision: str,
    goal_id: Annotated[str, Form()],
) -> Response:
    if decision not in ("accept", "reject"):
        raise PageNotFound()
    await planner.decide_proposal(viewer.attain, plan_id, accept=decision == "accept")
    return RedirectResponse(
        request.app.url_path_for("planner_goal", goal_id=goal_id), status_code=303
    )


@router.get("/planning/goals/{goal_id}/history", name="planner_history")
async def history_page(request: Request, viewer: ViewerDep, goal_id: str) -> HTMLResponse:
    view = await planner.goal_history(viewer.attain, goal_id)
    return render(request, viewer, "planner/history.html", {"view": view})


@router.get("/planning/imports", name="planner_imports")
async def imports_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return render(request, viewer, "planner/imports.html", {"report": None})


@router.post("/planning/imports/{kind}", name="planner_import")
async def import_file(
    request: Request, viewer: ViewerDep, kind: str, file: UploadFile
) -> HTMLResponse:
    if kind not in ("org", "goals"):
        raise PageNotFound()
    report = await planner.import_file(
        viewer.attain, "org" if kind == "org" else "goals", file.filename or "", await file.read()
    )
    status_code = 422 if report.whole_file_refused else 200
    return render(
        request, viewer, "planner/imports.html", {"report": report}, status_code=status_code
    )
