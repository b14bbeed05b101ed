"""Bodies and parameters refused before an endpoint parses them: over-size bodies (413, by
Content-Length up front or by the bytes streamed), JSON nested past the limit, NUL bytes in
the path, the query and JSON bodies (422 naming the field); and what passes arrives intact."""

import asyncio
import json
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from servicekit.limits import BodyLimits, RequestGuard, body_limit, json_depth, nul_field
from servicekit.problems import install_problem_handlers

pytestmark = pytest.mark.unit

LIMITS = BodyLimits(json=1_000, bulk=10_000, imports=5_000, json_depth=8)


def make_app() -> FastAPI:
    router = APIRouter()

    @router.post("/things")
    async def things(request: Request) -> dict[str, Any]:
        return {"received": len(await request.body())}

    @router.post("/batch", openapi_extra=body_limit("bulk"))
    async def batch(request: Request) -> dict[str, Any]:
        return {"received": len(await request.body())}

    @router.get("/things/{thing_id}")
    async def read(thing_id: str, q: str = "") -> dict[str, str]:
        return {"id": thing_id, "q": q}

    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestGuard, limits=LIMITS, routes=router.routes)
    app.include_router(router)
    return app


client = TestClient(make_app())


def test_a_body_over_the_routes_limit_is_413_with_a_problem_body() -> None:
    response = client.post("/things", content=b"x" * 1_001)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert client.post("/things", content=b"x" * 1_000).json() == {"received": 1_000}


def test_a_route_that_names_a_larger_limit_takes_bodies_up_to_it() -> None:
    assert client.post("/batch", content=b"x" * 9_000).json() == {"received": 9_000}
    assert client.post("/batch", content=b"x" * 10_001).status_code == 413


def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit() -> None:
    sent: list[int] = []

    def chunks() -> Any:
        for _ in range(100):
            sent.append(1)
            yield b"x" * 100

    response = client.post("/things", content=chunks())
    assert response.status_code == 413


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read() -> None:
    guard = RequestGuard(make_app(), LIMITS, routes=[])
    reads = 0
    answer: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x", "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        answer.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/things",
        "raw_path": b"/things",
        "query_string": b"",
        "headers": [(b"content-length", b"20000000")],
    }
    asyncio.run(guard(scope, receive, send))
    assert reads == 0
    assert answer[0]["status"] == 413


def test_json_nested_past_the_limit_is_422_and_never_parsed() -> None:
    deep = "[" * 4_000 + "]" * 4_000
    response = client.post("/batch", content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["field"] == "body"
    labelled_text = client.post("/batch", content=deep, headers={"content-type": "text/plain"})
    assert labelled_text.status_code == 422
    shallow = json.dumps({"a": [[{"b": 1}]]})
    assert client.post("/things", content=shallow).status_code == 200


def test_brackets_inside_strings_are_not_nesting() -> None:
    body = json.dumps({"note": "[[[[[[[[[[[[[[[[[[[[", "quote": 'say "{{{{{{{{{{{{{"'})
    assert client.post("/things", content=body).status_code == 200


def test_a_nul_in_a_json_body_is_422_naming_its_field() -> None:
    body = json.dumps({"deal": {"splits": [{"owner_id": "ann\x00"}]}})
    response = client.post("/things", content=body)
    assert response.status_code == 422
    assert response.json()["field"] == "deal.splits.0.owner_id"
    escaped_backslash = json.dumps({"note": "\\u0000 is how JSON writes NUL"})
    assert client.post("/things", content=escaped_backslash).status_code == 200


def test_a_nul_in_a_path_or_query_parameter_is_422_naming_it() -> None:
    response = client.get("/things/a%00b")
    assert response.status_code == 422
    assert response.json()["field"] == "thing_id"
    response = client.get("/things/a?q=x%00y")
    assert response.status_code == 422
    assert response.json()["field"] == "q"
    assert client.get("/things/a?q=xy").json() == {"id": "a", "q": "xy"}


@given(
    st.recursive(
        st.none() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=30,
    )
)
def test_json_depth_is_the_nesting_of_arrays_and_objects(value: Any) -> None:
    def depth(v: Any) -> int:
        if isinstance(v, list):
            return 1 + max((depth(i) for i in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(i) for i in v.values()), default=0)
        return 0

    assert json_depth(json.dumps(value).encode(), give_up_above=1_000) == depth(value)


@given(
    st.recursive(
        st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=20
    )
)
def test_nul_field_finds_a_nul_wherever_it_is(value: Any) -> None:
    def has_nul(v: Any) -> bool:
        if isinstance(v, str):
            return "\x00" in v
        if isinstance(v, list):
            return any(map(has_nul, v))
        return any(has_nul(k) or has_nul(i) for k, i in v.items())

    assert (nul_field(value) is not None) == has_nul(value)
