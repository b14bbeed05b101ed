"""The HTTP edge every service shares: problem responses, auth, metrics by
route template and correlation ids, on an app without background workers."""

import pytest
import structlog
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from servicekit.app import RequestMiddleware, _health_router
from servicekit.auth import CurrentPrincipal, Role, mint_token, require_roles
from servicekit.logs import CORRELATION_HEADER
from servicekit.problems import Conflict, install_problem_handlers
from servicekit.settings import ServiceSettings

pytestmark = pytest.mark.unit

KEY = "unit-test-secret-of-at-least-32-bytes"


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    size: int


def make_app() -> FastAPI:
    router = APIRouter()

    @router.post("/things")
    def create(thing: Thing) -> Thing:
        return thing

    @router.get("/things/{thing_id}")
    def read(thing_id: str) -> dict[str, str]:
        if thing_id == "taken":
            raise Conflict("that name is taken", field="name")
        if thing_id == "boom":
            raise RuntimeError("a bug")
        return {"id": thing_id}

    @router.get("/secret", dependencies=[require_roles(Role.ADMIN)])
    def secret(principal: CurrentPrincipal) -> dict[str, str | None]:
        return {"person": principal.person_id}

    app = FastAPI()
    app.state.settings = ServiceSettings(jwt_secret=KEY)  # type: ignore[arg-type]
    install_problem_handlers(app)
    app.add_middleware(RequestMiddleware, service="unit")
    app.include_router(router)
    app.include_router(_health_router())
    return app


client = TestClient(make_app(), raise_server_exceptions=False)


def token(*roles: Role) -> dict[str, str]:
    return {
        "Authorization": "Bearer " + mint_token(KEY, subject="u", roles=list(roles), person_id="p1")
    }


def test_invalid_body_is_a_422_problem_naming_the_field() -> None:
    response = client.post("/things", json={"name": "x", "size": "big"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["field"] == "size"
    assert body["errors"][0]["field"] == "size"
    assert body["type"].endswith("/invalid-input")


def test_unknown_fields_are_rejected() -> None:
    response = client.post("/things", json={"name": "x", "size": 1, "colour": "red"})
    assert response.status_code == 422
    assert response.json()["field"] == "colour"


def test_domain_problem_and_unexpected_error_are_problems() -> None:
    conflict = client.get("/things/taken")
    assert conflict.status_code == 409
    assert conflict.json()["field"] == "name"
    crash = client.get("/things/boom")
    assert crash.status_code == 500
    assert crash.json()["type"].endswith("/internal-error")
    assert "a bug" not in crash.text


def test_roles_are_checked_and_a_wrong_role_learns_nothing() -> None:
    assert client.get("/secret").status_code == 401
    assert client.get("/secret", headers=token(Role.REP)).status_code == 404
    assert client.get("/secret", headers=token(Role.ADMIN)).json() == {"person": "p1"}


def test_correlation_id_is_echoed_and_metrics_use_route_templates() -> None:
    response = client.get("/things/abc", headers={CORRELATION_HEADER: "corr-1"})
    assert response.headers[CORRELATION_HEADER] == "corr-1"
    assert client.get("/things/abc").headers[CORRELATION_HEADER]
    exposition = client.get("/metrics").text
    assert 'route="/things/{thing_id}"' in exposition
    assert 'route="/things/abc"' not in exposition
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("path", "status"),
    [("/things/taken", 409), ("/things/boom", 500), ("/secret", 401), ("/nowhere", 404)],
)
def test_every_problem_carries_the_correlation_id_in_header_and_body(
    path: str, status: int
) -> None:
    """An unhandled 500 answered without the header: the one error nobody could trace."""
    response = client.get(path, headers={CORRELATION_HEADER: "corr-7"})
    assert response.status_code == status
    assert response.headers[CORRELATION_HEADER] == "corr-7"
    assert response.json()["correlation_id"] == "corr-7"
    fresh = client.get(path)
    assert fresh.json()["correlation_id"] == fresh.headers[CORRELATION_HEADER]


def test_a_validation_problem_carries_the_correlation_id() -> None:
    response = client.post("/things", json={"name": "x"}, headers={CORRELATION_HEADER: "c-8"})
    assert response.status_code == 422
    assert (response.headers[CORRELATION_HEADER], response.json()["correlation_id"]) == (
        "c-8",
        "c-8",
    )


def test_the_log_line_of_a_500_names_service_route_and_correlation_id() -> None:
    with structlog.testing.capture_logs() as logs:
        client.get("/things/boom", headers={CORRELATION_HEADER: "corr-9"})
    [line] = [entry for entry in logs if entry["log_level"] == "error"]
    assert line["service"] == "unit"
    assert line["route"] == "/things/{thing_id}"
    assert line["method"] == "GET"
    assert line["correlation_id"] == "corr-9"


def test_the_bearer_scheme_is_declared_and_required_by_the_operations_that_check_it() -> None:
    document = make_app().openapi()
    assert document["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["HTTPBearer"]["description"],
    }
    assert document["paths"]["/secret"]["get"]["security"] == [{"HTTPBearer": []}]
    for open_path in ("/healthz", "/readyz", "/things/{thing_id}"):
        assert "security" not in document["paths"][open_path]["get"], open_path


def test_a_token_of_another_scheme_is_unauthorized() -> None:
    assert client.get("/secret", headers={"Authorization": "Basic dTpw"}).status_code == 401
