"""What every page handler uses.

- `ViewerDep` (`Viewer`): the signed-in person: `principal` (servicekit.auth's
  Principal, decoded from the session cookie or the Authorization header), `token`
  (the raw JWT, sent on to the four APIs), `locale` ("zh" or "en") and `attain`
  (clients.Attain: `attain.goals`, `.tracking`, `.alerts`, `.incentives`). Without
  a valid token a page answers with a redirect to the sign-in page.
- `requires(*roles)`: a router's dependency naming the roles its area needs, once:
  `APIRouter(dependencies=[requires(Role.MANAGER, ...)])`; anyone else gets the
  not-found page.
- `render(request, viewer, "area/page.html", context, status_code=200)`: a page or
  a fragment (`area/_part.html`) in the viewer's language. Templates get `viewer`,
  `request`, `url_for` (a path), the filters and `live_attrs` (templating.py).
- Errors raised by the clients need no handling in a view: Upstream404 renders
  the not-found page, Upstream401 sends the browser to sign in, an unavailable API
  a 503 page; catch `UpstreamRejected` where a form can show `problem.field`."""

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from dashboard_service.api.i18n import choose_locale
from dashboard_service.api.templating import LiveKeys
from dashboard_service.clients import Attain
from dashboard_service.service_layer.live import mint_page_token
from dashboard_service.settings import DashboardSettings
from servicekit.auth import Principal, Role, token_verifier
from servicekit.problems import Unauthorized


class SignInRequired(Exception):
    """No valid token: the page answers with a redirect to sign in."""


class PageNotFound(Exception):
    """Rendered as the not-found page (a role without this area, or no such thing)."""


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    token: str
    locale: str
    attain: Attain

    @property
    def person_id(self) -> str | None:
        return self.principal.person_id

    def has_any(self, *roles: Role) -> bool:
        return self.principal.has_any(*roles)


def settings_of(request: Request) -> DashboardSettings:
    settings: DashboardSettings = request.app.state.settings
    return settings


def locale_of(request: Request) -> str:
    settings = settings_of(request)
    return choose_locale(
        request.query_params.get("lang"),
        request.cookies.get(settings.locale_cookie),
        request.headers.get("accept-language", ""),
        settings.default_locale,
    )


def bearer_token(request: Request) -> str | None:
    """The identity provider's JWT: the Authorization header (a proxy in front sets
    it) or the session cookie (set by sign-in, development's or the provider's, or by
    the proxy)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return token
    return request.cookies.get(settings_of(request).session_cookie) or None


def principal_of(request: Request) -> tuple[Principal, str] | None:
    """The signed-in person, checked as the APIs check them (servicekit.auth). It may fetch
    the identity provider's keys: call it from a thread (a sync dependency or route)."""
    token = bearer_token(request)
    if token is None:
        return None
    try:
        principal = token_verifier(request.app).verify(token)
    except Unauthorized:
        return None
    return principal, token


def current_viewer(request: Request) -> Viewer:
    signed_in = principal_of(request)
    if signed_in is None:
        raise SignInRequired()
    principal, token = signed_in
    http: httpx.AsyncClient = request.app.state.http
    return Viewer(
        principal=principal,
        token=token,
        locale=locale_of(request),
        attain=Attain(
            http, settings_of(request), token, getattr(request.app.state, "read_cache", None)
        ),
    )


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def requires(*roles: Role) -> Any:
    def check(viewer: ViewerDep) -> Viewer:
        if not viewer.has_any(*roles):
            raise PageNotFound()
        return viewer

    return Depends(check)


def render(
    request: Request,
    viewer: Viewer | None,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    settings = settings_of(request)
    locale = viewer.locale if viewer else locale_of(request)
    environments: dict[str, Environment] = request.app.state.templates
    live = LiveKeys()

    def live_url() -> str:
        """The page's one SSE connection, naming only the keys it rendered."""
        if viewer is None or not live.keys:
            return ""
        token = mint_page_token(
            settings.jwt_secret.get_secret_value(),
            viewer.principal.subject,
            live.keys,
            settings.page_token_ttl,
        )
        return f"{request.app.url_path_for('live_stream')}?page={token}"

    def switch_language(to: str) -> str:
        """This page in another language, its other query parameters kept."""
        query = {**request.query_params, "lang": to}
        return f"{request.url.path}?{urlencode(query)}"

    html = (
        environments[locale]
        .get_template(template)
        .render(
            request=request,
            viewer=viewer,
            url_for=request.app.url_path_for,
            live=live,
            live_url=live_url,
            switch_language=switch_language,
            development=settings.development,
            **(context or {}),
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    asked = request.query_params.get("lang")
    if asked == locale:
        response.set_cookie(settings.locale_cookie, locale, max_age=365 * 24 * 3600, samesite="lax")
    return response
