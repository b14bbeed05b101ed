"""Errors as RFC 9457 problem responses. `api/` raises a `Problem` subclass; the
layers below raise `servicekit.errors` (no HTTP in them); `install_problem_handlers`
maps every error, including validation errors and the unexpected, to
`application/problem+json` once for the app."""

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit.db import is_transient
from servicekit.errors import Clash, FieldError, Missing, Unreachable
from servicekit.logs import current_correlation_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://attain.dev/problems/"

log = structlog.get_logger()


class Problem(Exception):
    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.errors = errors


class InvalidInput(Problem):
    status, code, title = 422, "invalid-input", "The request is not valid"


class NotFound(Problem):
    status, code, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, code, title = 409, "conflict", "Conflict"


class Unauthorized(Problem):
    status, code, title = 401, "unauthorized", "Not authenticated"


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    if (correlation_id := current_correlation_id()) is not None:
        body["correlation_id"] = correlation_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_name(location: tuple[Any, ...]) -> str:
    # FastAPI prefixes the location with where the value came from ("body", "query").
    parts = [str(p) for p in location[1:]] if len(location) > 1 else [str(p) for p in location]
    return ".".join(parts)


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        instance=request.url.path,
        field=exc.field,
        errors=exc.errors,
    )


def _as_problem(exc: Exception) -> Problem:
    """The problem a `servicekit.errors` error is answered as."""
    if isinstance(exc, FieldError):
        return InvalidInput(exc.reason, field=exc.field, errors=exc.errors)
    if isinstance(exc, Missing):
        return NotFound(exc.what)
    if isinstance(exc, Clash):
        return Conflict(exc.reason, field=exc.field)
    assert isinstance(exc, Unreachable)
    problem = Problem(exc.reason)
    problem.status, problem.code, problem.title = 502, exc.code, exc.title
    return problem


async def _on_error(request: Request, exc: Exception) -> JSONResponse:
    return await _on_problem(request, _as_problem(exc))


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_name(tuple(e["loc"])), "reason": e["msg"], "code": e["type"]}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": None, "reason": "invalid request"}
    return problem_response(
        422,
        "invalid-input",
        "The request is not valid",
        f"{first['field']}: {first['reason']}" if first["field"] else first["reason"],
        instance=request.url.path,
        field=first["field"],
        errors=errors,
    )


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {401: "Not authenticated", 404: "Not found", 405: "Method not allowed"}.get(
        exc.status_code, "Request failed"
    )
    code = title.lower().replace(" ", "-")
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem_response(
        exc.status_code,
        code,
        title,
        detail,
        instance=request.url.path,
        headers=getattr(exc, "headers", None),
    )


def unexpected_error(exc: BaseException, path: str) -> JSONResponse:
    """The answer to an exception no handler mapped: a 503 when the database or the broker
    is gone for a moment, else a 500."""
    if is_transient(exc):
        # The database (restarting, failing over) or the broker is gone for a moment: the
        # caller may retry, and a CRM does, so nothing it sent is lost.
        return problem_response(
            503,
            "service-unavailable",
            "Service unavailable",
            "A server this service depends on did not answer; try again shortly.",
            instance=path,
            headers={"Retry-After": "1"},
        )
    return problem_response(
        500,
        "internal-error",
        "Internal error",
        "The server failed to handle this request; it has been logged.",
        instance=path,
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Only what fails outside servicekit's RequestMiddleware lands here (that
    # middleware answers the rest itself, with the correlation id).
    if is_transient(exc):
        log.warning("http.infrastructure_unavailable", path=request.url.path, error=repr(exc))
    else:
        log.exception("http.unhandled_error", path=request.url.path)
    return unexpected_error(exc, request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    for error in (FieldError, Missing, Clash, Unreachable):
        app.add_exception_handler(error, _on_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
