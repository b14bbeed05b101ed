"""Manager, "my team" (placeholder until the manager view lands)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard_service.api.deps import ViewerDep, render, requires
from servicekit.auth import Role

router = APIRouter(
    tags=["manager"],
    dependencies=[requires(Role.MANAGER, Role.PLANNER, Role.ADMIN, Role.VIEWER)],
)


@router.get("/team", name="manager_team")
async def team_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return render(request, viewer, "manager/team.html")
