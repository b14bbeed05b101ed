"""Request bodies and parameters refused before any endpoint parses them: a body over its
route's limit is a 413 (refused on its Content-Length before a byte is read, else as soon as
the bytes streamed in pass it), JSON nested deeper than the limit a 422 (found by a scan of
the raw bytes, so `json.loads` never recurses into it), and a NUL byte in the path, the query
or a JSON body a 422 naming the field (PostgreSQL stores no NUL in text or JSONB).

A route takes a larger limit than plain JSON by naming one in its `openapi_extra`:
`openapi_extra=body_limit("bulk")`; the sizes are settings."""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.problems import problem_response
from servicekit.settings import ServiceSettings

LimitName = Literal["json", "bulk", "import"]
LIMIT_KEY = "x-body-limit"
_BODY_METHODS = {"POST", "PUT", "PATCH"}
# A JSON string, escapes included: what lies inside one is text, never nesting.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def body_limit(name: LimitName) -> dict[str, Any]:
    """`openapi_extra` for a route whose body may be as large as the `name` limit; the
    document shows which limit applies."""
    return {LIMIT_KEY: name}


@dataclass(frozen=True)
class BodyLimits:
    json: int
    bulk: int
    imports: int
    json_depth: int

    def of(self, name: str) -> int:
        return {"bulk": self.bulk, "import": self.imports}.get(name, self.json)


def body_limits(settings: ServiceSettings) -> BodyLimits:
    return BodyLimits(
        json=settings.max_body_bytes,
        bulk=settings.max_bulk_body_bytes,
        imports=settings.max_import_body_bytes,
        json_depth=settings.max_json_depth,
    )


def json_depth(raw: bytes, give_up_above: int) -> int:
    """How deeply arrays and objects nest in `raw` (JSON or not), counting no further than
    one past `give_up_above`."""
    outside_strings = _JSON_STRING.sub(b"", raw)
    deepest = 0
    brackets = outside_strings.translate(None, delete=_NOT_BRACKETS)
    for depth in accumulate(map(_DEPTH_STEP.__getitem__, brackets)):
        if depth > deepest:
            deepest = depth
            if deepest > give_up_above:
                break
    return deepest


def nul_field(value: Any, path: str = "") -> str | None:
    """The dotted path of the first text in parsed JSON that holds a NUL byte, if any."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return f"{path}.{key}" if path else key
        found = nul_field(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


class RequestGuard:
    """The ASGI middleware that applies these limits to every HTTP request."""

    def __init__(self, app: ASGIApp, limits: BodyLimits, routes: Sequence[BaseRoute]) -> None:
        """`routes` are the app's own, matched to find a route's limit and parameters."""
        self.app = app
        self.limits = limits
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = _matching_route(self.routes, scope)
        bad_parameter = _nul_parameter(scope, route)
        if bad_parameter:
            await _refuse(scope, receive, send, 422, bad_parameter, "must not contain NUL")
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limits.of((getattr(route, "openapi_extra", None) or {}).get(LIMIT_KEY, ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, receive, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(scope, receive, send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if _is_json(scope, body):
            if json_depth(body, self.limits.json_depth) > self.limits.json_depth:
                await _refuse(
                    scope,
                    receive,
                    send,
                    422,
                    "body",
                    f"JSON nested deeper than {self.limits.json_depth} levels",
                )
                return
            field = _nul_in_json(body)
            if field:
                await _refuse(scope, receive, send, 422, field, "must not contain NUL")
                return
        await self.app(scope, _replay(body, receive), send)


def _matching_route(routes: Sequence[BaseRoute], scope: Scope) -> Any:
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return route
    return None


def _nul_parameter(scope: Scope, route: Any) -> str | None:
    if "\x00" in scope["path"]:
        if route is not None:
            _, child = route.matches(scope)
            for name, value in child.get("path_params", {}).items():
                if "\x00" in str(value):
                    return str(name)
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" in query or "\x00" in query:
        for name, value in parse_qsl(query, keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return name.replace("\x00", "") or "query"
        return "query"
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _is_json(scope: Scope, body: bytes) -> bool:
    """JSON by its content type, or by its first character whatever the sender declared:
    webhooks are read as JSON however they are labelled."""
    for name, value in scope.get("headers", []):
        if name == b"content-type" and b"json" in value.lower():
            return True
    return body.lstrip()[:1] in (b"{", b"[")


def _nul_in_json(body: bytes) -> str | None:
    # The escape is the only way JSON carries a NUL; a raw one makes the body invalid JSON,
    # which the endpoint answers as such.
    if b"\\u0000" not in body:
        return None
    try:
        return nul_field(json.loads(body))
    except ValueError:
        return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = problem_response(
        413,
        "payload-too-large",
        "Payload too large",
        f"the body may be at most {limit} bytes",
        instance=scope["path"],
        # The rest of the body is not read; the client must not send it on this connection.
        headers={"Connection": "close"},
    )
    await response(scope, receive, send)


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, field: str, reason: str
) -> None:
    response = problem_response(
        status,
        "invalid-input",
        "The request is not valid",
        f"{field}: {reason}",
        instance=scope["path"],
        field=field,
        errors=[{"field": field, "reason": reason}],
    )
    await response(scope, receive, send)
