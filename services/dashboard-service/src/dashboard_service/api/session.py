"""Sign-in and sign-out.

Development (environment "development" or "test"): /sign-in/development lists the
people from goal-service and mints a development token for the chosen person and
roles into the session cookie. Anywhere else that page is 404 and /sign-in only
says to sign in through the organisation: the identity provider's JWT arrives in
the Authorization header or the session cookie (README, "Signing in")."""

from typing import Annotated
from urllib.parse import urlencode, urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dashboard_service.api.dependencies import PageNotFound, principal_of, render, settings_of
from dashboard_service.service_layer.session import SESSION_TTL, development_token, people_to_choose
from servicekit.auth import Role

router = APIRouter(tags=["session"])


ROLES = (Role.REP, Role.MANAGER, Role.PLANNER, Role.ADMIN, Role.VIEWER)


def _safe_next(next_path: str | None) -> str:
    """Only a path on this site, so sign-in cannot be used to send someone elsewhere."""
    if not next_path:
        return "/"
    parsed = urlparse(next_path)
    if (
        parsed.scheme
        or parsed.netloc
        or not next_path.startswith("/")
        or next_path.startswith("//")
    ):
        return "/"
    return next_path


@router.get("/sign-in", name="sign_in_page")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    if settings_of(request).development:
        target = request.app.url_path_for("development_sign_in")
        query = urlencode({"next": _safe_next(next)})
        return RedirectResponse(f"{target}?{query}", status_code=303)
    return render(request, None, "session/sign_in.html", status_code=401)


@router.get("/sign-in/development", name="development_sign_in")
async def development_sign_in_page(request: Request, next: str | None = None) -> Response:
    settings = settings_of(request)
    if not settings.development:
        raise PageNotFound()
    teams = await people_to_choose(request.app.state.http, settings)
    return render(
        request,
        None,
        "session/development.html",
        {"teams": teams, "roles": ROLES, "next": _safe_next(next)},
    )


@router.post("/sign-in/development")
async def development_sign_in(
    request: Request,
    person_id: Annotated[str, Form()],
    roles: Annotated[list[Role], Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    settings = settings_of(request)
    if not settings.development:
        raise PageNotFound()
    token = development_token(settings, person_id, roles)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        settings.session_cookie,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        secure=settings.secure_cookie,
        samesite="lax",
    )
    return response


@router.post("/sign-out", name="sign_out")
async def sign_out(request: Request) -> Response:
    settings = settings_of(request)
    response = RedirectResponse(request.app.url_path_for("sign_in_page"), status_code=303)
    response.delete_cookie(
        settings.session_cookie, httponly=True, secure=settings.secure_cookie, samesite="lax"
    )
    return response


@router.get("/", name="home")
async def home(request: Request) -> Response:
    """Each person lands on the first area their roles open."""
    signed_in = principal_of(request)
    if signed_in is None:
        return RedirectResponse(request.app.url_path_for("sign_in_page"), status_code=303)
    principal, _ = signed_in
    for roles, area in (
        ((Role.REP,), "rep_home"),
        ((Role.MANAGER, Role.VIEWER), "manager_team"),
        ((Role.PLANNER,), "planner_home"),
        ((Role.ADMIN,), "admin_home"),
    ):
        if principal.has_any(*roles):
            return RedirectResponse(request.app.url_path_for(area), status_code=303)
    raise PageNotFound()
