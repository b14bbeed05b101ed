"""Admin (placeholder until the admin view lands)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard_service.api.deps import ViewerDep, render, requires
from servicekit.auth import Role

router = APIRouter(tags=["admin"], dependencies=[requires(Role.ADMIN)])


@router.get("/admin", name="admin_home")
async def admin_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return render(request, viewer, "admin/index.html")
