"""Rep, "my goals": /me is the signed-in person's page, /people/{id} anyone's page
that the APIs let the viewer see (a manager drilling down to a person)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dashboard_service.api.deps import PageNotFound, ViewerDep, render, requires
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
    return render(request, viewer, "rep/goals.html", {"person_id": person_id})
