"""The errors the layers below `api/` raise, each answered once as its problem."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from servicekit.clock import local_day
from servicekit.errors import Clash, FieldError, Missing, Unreachable
from servicekit.problems import install_problem_handlers

pytestmark = pytest.mark.unit


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/field")
    def field() -> None:
        raise FieldError("weights", "weights must add up to 1")

    @app.get("/fields")
    def fields() -> None:
        raise FieldError(
            "results",
            "results: too low; growth: too high",
            errors=[
                {"field": "results", "code": "invalid_weights", "reason": "too low"},
                {"field": "growth", "code": "invalid_weights", "reason": "too high"},
            ],
        )

    @app.get("/missing")
    def missing() -> None:
        raise Missing("no goal g-9")

    @app.get("/clash")
    def clash() -> None:
        raise Clash("period 2026-11 is closed", field="period")

    @app.get("/unreachable")
    def unreachable() -> None:
        raise Unreachable("tracking-unavailable", "tracking-service did not answer", "timeout")

    return app


@pytest.mark.parametrize(
    ("path", "status", "code", "field", "detail"),
    [
        ("/field", 422, "invalid-input", "weights", "weights must add up to 1"),
        ("/missing", 404, "not-found", None, "no goal g-9"),
        ("/clash", 409, "conflict", "period", "period 2026-11 is closed"),
        ("/unreachable", 502, "tracking-unavailable", None, "timeout"),
    ],
)
def test_each_error_is_its_problem(
    path: str, status: int, code: str, field: str | None, detail: str
) -> None:
    response = TestClient(_app()).get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith(code)
    assert body.get("field") == field
    assert body["detail"] == detail


def test_a_field_error_may_list_every_problem_it_found() -> None:
    body = TestClient(_app()).get("/fields").json()
    assert (body["status"], body["field"]) == (422, "results")
    assert [(e["field"], e["reason"]) for e in body["errors"]] == [
        ("results", "too low"),
        ("growth", "too high"),
    ]
    assert "errors" not in TestClient(_app()).get("/field").json()


def test_the_local_day_of_an_instant_is_the_zones_day() -> None:
    late_evening_utc = datetime(2026, 6, 30, 17, 30, tzinfo=UTC)
    assert local_day(late_evening_utc, "Asia/Shanghai") == date(2026, 7, 1)
    assert local_day(late_evening_utc, ZoneInfo("America/New_York")) == date(2026, 6, 30)
    with pytest.raises(ValueError, match="timezone-aware"):
        local_day(datetime(2026, 6, 30, 17, 30), "UTC")  # noqa: DTZ001 (the point of the test)
