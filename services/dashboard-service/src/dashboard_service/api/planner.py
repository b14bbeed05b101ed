"""Planner (placeholder until the planner view lands)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard_service.api.deps import ViewerDep, render, requires
from servicekit.auth import Role

router = APIRouter(tags=["planner"], dependencies=[requires(Role.PLANNER, Role.ADMIN)])


@router.get("/planning", name="planner_home")
async def planning_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return render(request, viewer, "planner/index.html")
