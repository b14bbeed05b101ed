"""Sign-in and sign-out.

Development (environment "development" or "test"): /sign-in/development lists the
people from goal-service and mints a development token for the chosen person and
roles into the session cookie. Anywhere else that page is 404, and /sign-in sends the
browser to the identity provider (OpenID Connect, service_layer/oidc.py), whose
/sign-in/callback puts the provider's access token into the session cookie. Without
a provider configured /sign-in only says to sign in through the organisation: a proxy
in front puts the provider's JWT in the Authorization header or the session cookie
(README, "Signing in")."""

from typing import Annotated
from urllib.parse import urlencode, urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dashboard_service.api.dependencies import PageNotFound, principal_of, render, settings_of
from dashboard_service.service_layer.oidc import SIGN_IN_TTL, OidcSignIn
from dashboard_service.service_layer.session import SESSION_TTL, development_token, people_to_choose
from dashboard_service.settings import DashboardSettings
from servicekit.auth import Role

router = APIRouter(tags=["session"])


ROLES = (Role.REP, Role.MANAGER, Role.PLANNER, Role.ADMIN, Role.VIEWER)
# The sign-in in progress, sent back only to the callback.
PENDING_COOKIE = "attain_sign_in"
CALLBACK_PATH = "/sign-in/callback"


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


def _oidc(request: Request) -> OidcSignIn | None:
    oidc: OidcSignIn | None = request.app.state.oidc
    return oidc


@router.get("/sign-in", name="sign_in_page")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    settings = settings_of(request)
    if settings.development:
        target = request.app.url_path_for("development_sign_in")
        query = urlencode({"next": _safe_next(next)})
        return RedirectResponse(f"{target}?{query}", status_code=303)
    oidc = _oidc(request)
    if oidc is None:
        return render(request, None, "session/sign_in.html", status_code=401)
    started = await oidc.start(request.app.state.http, _safe_next(next))
    response = RedirectResponse(started.location, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        started.pending,
        max_age=int(SIGN_IN_TTL.total_seconds()),
        path=CALLBACK_PATH,
        httponly=True,
        secure=settings.secure_cookie,
        # Lax: the provider's redirect back is a top-level GET from its site.
        samesite="lax",
    )
    return response


@router.get(CALLBACK_PATH, name="sign_in_callback")
async def sign_in_callback(
    request: Request, state: str | None = None, code: str | None = None
) -> Response:
    settings = settings_of(request)
    oidc = None if settings.development else _oidc(request)
    if oidc is None:
        raise PageNotFound()
    signed_in = await oidc.finish(
        request.app.state.http, request.cookies.get(PENDING_COOKIE), state, code
    )
    response = RedirectResponse(_safe_next(signed_in.next_path), status_code=303)
    response.delete_cookie(
        PENDING_COOKIE, path=CALLBACK_PATH, httponly=True, secure=settings.secure_cookie
    )
    # The cookie lasts as long as the provider's token: then the next page signs in again.
    _set_session(response, settings, signed_in.access_token, signed_in.expires_in)
    return response


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
    _set_session(response, settings, token, int(SESSION_TTL.total_seconds()))
    return response


def _set_session(response: Response, settings: DashboardSettings, token: str, max_age: int) -> None:
    response.set_cookie(
        settings.session_cookie,
        token,
        max_age=max_age,
        httponly=True,
        secure=settings.secure_cookie,
        samesite="lax",
    )


@router.post("/sign-out", name="sign_out")
async def sign_out(request: Request) -> Response:
    settings = settings_of(request)
    response = RedirectResponse(request.app.url_path_for("sign_in_page"), status_code=303)
    response.delete_cookie(
        settings.session_cookie, httponly=True, secure=settings.secure_cookie, samesite="lax"
    )
    return response


@router.get("/", name="home")
def home(request: Request) -> Response:
    """Each person lands on the first area their roles open (sync: checking the token may
    fetch the identity provider's keys, so FastAPI runs it in a thread)."""
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
