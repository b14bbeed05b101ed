"""Failures as pages: the not-found page for anything a person may not see (the
APIs answer 404 for those too), sign-in for a missing or refused token, and a 503
page when an API is down. htmx requests get the same, as a redirect it follows."""

from urllib.parse import urlencode

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dashboard_service.api.dependencies import (
    PageNotFound,
    SignInRequired,
    current_viewer,
    principal_of,
    render,
)
from dashboard_service.clients import (
    Upstream401,
    Upstream404,
    UpstreamRejected,
    UpstreamUnavailable,
)
from servicekit.problems import problem_response

log = structlog.get_logger()


def _sign_in(request: Request) -> Response:
    target = request.app.url_path_for("sign_in_page")
    next_path = request.url.path
    if request.url.query:
        next_path += "?" + request.url.query
    location = (
        f"{target}?{urlencode({'next': next_path})}" if request.method == "GET" else str(target)
    )
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _error_page(request: Request, template: str, status_code: int, **context: object) -> Response:
    # The navigation still shows who is signed in, when someone is. Checking the token may
    # fetch the identity provider's keys, so the handlers that render error pages are sync:
    # Starlette runs them in a thread, off the event loop.
    viewer = current_viewer(request) if principal_of(request) else None
    return render(request, viewer, template, dict(context), status_code=status_code)


def _not_found(request: Request, exc: Exception) -> Response:
    return _error_page(request, "errors/not_found.html", 404)


async def _signed_out(request: Request, exc: Exception) -> Response:
    return _sign_in(request)


def _unavailable(request: Request, exc: Exception) -> Response:
    log.warning("dashboard.upstream_unavailable", error=str(exc))
    assert isinstance(exc, UpstreamUnavailable)
    return _error_page(request, "errors/unavailable.html", 503, service=exc.service)


def _rejected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UpstreamRejected)
    return _error_page(request, "errors/rejected.html", exc.problem.status, problem=exc.problem)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return _error_page(request, "errors/not_found.html", 404)
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem_response(exc.status_code, "request-failed", "Request failed", detail)


def install_page_errors(app: FastAPI) -> None:
    app.add_exception_handler(PageNotFound, _not_found)
    app.add_exception_handler(Upstream404, _not_found)
    app.add_exception_handler(SignInRequired, _signed_out)
    app.add_exception_handler(Upstream401, _signed_out)
    app.add_exception_handler(UpstreamUnavailable, _unavailable)
    app.add_exception_handler(UpstreamRejected, _rejected)
    app.add_exception_handler(StarletteHTTPException, _http_error)
