"""The grid's markup: a row re-fetched by the live channel is the row the page drew,
and an API's refusal reads in the page's language."""

from datetime import date

import pytest
from fastapi import FastAPI

from attain_contracts.calendar import FiscalCalendar
from dashboard_service.api.templating import LiveKeys, build_environments
from dashboard_service.clients import Problem
from dashboard_service.domain.team import DEFAULT_BANDS, grid_columns
from dashboard_service.main import ROUTERS
from dashboard_service.service_layer.manager import Org, Unit, build_grid

pytestmark = pytest.mark.unit

CALENDAR = FiscalCalendar()
QUARTER = CALENDAR.period("FY2026-Q1")
ENVIRONMENTS = build_environments("Asia/Shanghai", {})
APP = FastAPI()
for router in ROUTERS:
    APP.include_router(router)


def grid():  # type: ignore[no-untyped-def]
    units = {
        "east": Unit("east", "East", "region", None, "mgr-east", ("east",)),
        "north": Unit("north", "North", "team", "east", "mgr-north", ("east", "north")),
    }
    columns = grid_columns(CALENDAR, QUARTER, "month")
    by_period = {
        c.key: [
            {
                "goal_id": f"g-ann-{c.key}",
                "org_unit_id": "north",
                "person_id": "ann",
                "period_key": c.key,
                "actual": "1234.5",
                "target": "5000",
                "expected_to_date": "2000",
                "pace": "0.61725",
                "attainment": "0.2469",
            }
        ]
        for c in columns
    }
    tree = Org(units=units, calendar=CALENDAR)
    return build_grid(
        tree, units["east"], QUARTER, columns, by_period, {"ann": "Ann"}, date(2026, 1, 5)
    )


def render(locale: str, template: str, **context: object) -> str:
    return (
        ENVIRONMENTS[locale]
        .get_template(template)
        .render(url_for=APP.url_path_for, live=LiveKeys(), currency="CNY", **context)
    )


def test_the_live_row_is_the_row_the_grid_drew() -> None:
    shown = grid()
    page = render("zh", "manager/_grid.html", grid=shown, unit_id="east", bands=DEFAULT_BANDS)
    ann = next(r for r in shown.rows if r.id == "ann")
    again = render("zh", "manager/_row.html", grid=shown, unit_id="east", row=ann).strip()
    assert again.startswith('<tr id="row-person-ann"')
    assert again in page
    assert (
        'hx-get="/team/units/east/rows/person/ann?grain=month&amp;period=FY2026-Q1&amp;depth=2"'
        in again
    )
    assert 'title="¥1,234.50 / ¥5,000.00"' in again
    assert "<b>落后</b> 61.7%" in again


def problem_text(locale: str, problem: Problem) -> str:
    macro = '{% from "_names.html" import problem_text %}{{ problem_text(problem) }}'
    return ENVIRONMENTS[locale].from_string(macro).render(problem=problem)


def test_a_refusal_with_a_code_reads_in_the_pages_language() -> None:
    fault = {
        "field": "target",
        "reason": "Input should be a valid decimal",
        "code": "decimal_parsing",
    }
    problem = Problem(
        422,
        "The request is not valid",
        "target: Input should be a valid decimal",
        "target",
        (fault,),
        code="invalid-input",
    )
    assert problem_text("zh", problem) == "不是有效的值。 \uff08字段\uff1atarget\uff09"
    conflict = Problem(409, "Conflict", "the period is closed", None, code="conflict")
    assert problem_text("zh", conflict) == "与现有内容冲突。"
    assert problem_text("en", conflict) == (
        "This conflicts with what is already there. — the period is closed"
    )
    unknown = Problem(400, "Bad", "something else", None, code="no-such-code")
    assert problem_text("zh", unknown) == "something else"
