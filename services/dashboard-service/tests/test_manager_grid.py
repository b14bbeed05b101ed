"""The manager grid's rows, from the lists the APIs answer with: which units and
people a unit's page shows, in which order, and which goal each cell is."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from attain_contracts.calendar import FiscalCalendar
from dashboard_service.domain.team import Band, grid_columns
from dashboard_service.service_layer.manager import Org, Unit, build_grid, own_cells

pytestmark = pytest.mark.unit

D = Decimal

CALENDAR = FiscalCalendar()
QUARTER = CALENDAR.period("FY2026-Q1")
MONTHS = grid_columns(CALENDAR, QUARTER, "month")


def unit(id_: str, kind: str, *path: str) -> Unit:
    return Unit(id_, id_.title(), kind, path[-2] if len(path) > 1 else None, f"mgr-{id_}", path)


TREE = Org(
    units={
        u.id: u
        for u in (
            unit("acme", "company", "acme"),
            unit("east", "region", "acme", "east"),
            unit("north", "team", "acme", "east", "north"),
            unit("south", "team", "acme", "east", "south"),
        )
    },
    calendar=CALENDAR,
)


def progress(
    goal_id: str, org_unit_id: str, person_id: str | None, period_key: str, pace: str | None
) -> dict[str, Any]:
    return {
        "goal_id": goal_id,
        "org_unit_id": org_unit_id,
        "person_id": person_id,
        "period_key": period_key,
        "actual": "10",
        "target": "100",
        "expected_to_date": "20",
        "pace": pace,
        "attainment": "0.1",
    }


def test_a_regions_page_lists_each_team_then_its_reps_with_a_cell_per_goal() -> None:
    by_period = {
        "FY2026-Q1": [
            progress("g-east-q1", "east", None, "FY2026-Q1", "1.0"),
            progress("g-north-q1", "north", None, "FY2026-Q1", "0.95"),
            progress("g-ann-q1", "north", "ann", "FY2026-Q1", "0.5"),
        ],
        "2026-02": [progress("g-ann-02", "north", "ann", "2026-02", "1.3")],
    }
    grid = build_grid(
        TREE,
        TREE.units["east"],
        QUARTER,
        MONTHS,
        by_period,
        {"ann": "Ann", "bo": "Bo"},  # Bo has no goal: no row
        date(2026, 2, 10),
    )
    assert [(r.kind, r.id, r.depth) for r in grid.rows] == [
        ("unit", "east", 0),
        ("unit", "north", 1),
        ("person", "ann", 2),
        ("unit", "south", 1),
    ]
    ann = grid.rows[2]
    assert ann.name == "Ann"
    assert ann.span is not None and ann.span.band == Band.BEHIND
    assert [c.goal_id if c else None for c in ann.cells] == [None, "g-ann-02", None]
    assert ann.cells[1] is not None and ann.cells[1].band == Band.AHEAD
    assert ann.live_goal_id == "g-ann-q1"  # one key for the row: the quarter's goal
    assert grid.rows[3].live_goal_id is None and grid.rows[3].cells == (None, None, None)
    assert grid.current == "2026-02"
    assert grid.rows[0].span is not None and grid.rows[0].span.goal_id == "g-east-q1"


def test_a_unit_without_its_own_goal_shows_its_peoples_goals_summed() -> None:
    def rep(person: str, actual: str, expected: str) -> dict[str, Any]:
        return {
            **progress(f"g-{person}", "north", person, "2026-02", None),
            "actual": actual,
            "target": "100",
            "expected_to_date": expected,
        }

    by_period = {"2026-02": [rep("ann", "10", "40"), rep("bo", "50", "60")]}
    grid = build_grid(TREE, TREE.units["east"], QUARTER, MONTHS, by_period, {}, date(2026, 2, 10))
    for unit_row in (grid.rows[0], grid.rows[1]):  # the region, and the team
        summed = unit_row.cells[1]
        assert summed is not None and summed.rolled_up
        assert (summed.actual, summed.expected, summed.target) == (D(60), D(100), D(200))
        assert summed.pace == D("0.6") and summed.band == Band.BEHIND
    assert grid.rows[0].live_goal_id is None  # nothing of its own to listen to


def test_a_teams_page_lists_its_reps_and_a_companys_its_regions_and_teams() -> None:
    ann = progress("g-ann-q1", "north", "ann", "FY2026-Q1", "0.8")
    team = build_grid(
        TREE, TREE.units["north"], QUARTER, MONTHS, {"FY2026-Q1": [ann]}, {}, date(2026, 1, 5)
    )
    assert [(r.id, r.depth) for r in team.rows] == [("north", 0), ("ann", 1)]
    company = build_grid(
        TREE, TREE.units["acme"], QUARTER, MONTHS, {"FY2026-Q1": [ann]}, {}, date(2026, 1, 5)
    )
    assert [(r.id, r.depth) for r in company.rows] == [
        ("acme", 0),
        ("east", 1),
        ("north", 2),
        ("south", 2),
    ]


WEEKS = grid_columns(CALENDAR, QUARTER, "week")


def test_a_week_cut_at_a_month_end_shows_both_parts_summed_in_its_column() -> None:
    """goal-service gives both pieces of 2026-W05 (January's and February's) the
    week's key: the week's cell is the two together, its team's cell counts each once."""

    def part(goal_id: str, person: str | None, actual: str, target: str, expected: str) -> Any:
        return {
            **progress(goal_id, "north", person, "2026-W05", None),
            "actual": actual,
            "target": target,
            "expected_to_date": expected,
        }

    by_period = {
        "2026-W05": [
            part("g-ann-w05-jan", "ann", "30", "60", "60"),
            part("g-ann-w05-feb", "ann", "5", "15", "15"),
            part("g-north-w05-jan", None, "300", "600", "600"),
            part("g-north-w05-feb", None, "10", "150", "150"),
        ]
    }
    grid = build_grid(TREE, TREE.units["east"], QUARTER, WEEKS, by_period, {}, date(2026, 2, 1))
    week = [c.key for c in WEEKS].index("2026-W05")
    rows = {(r.kind, r.id): r for r in grid.rows}

    ann = rows["person", "ann"].cells[week]
    assert ann is not None and not ann.rolled_up and ann.goal_id == "g-ann-w05-jan"
    assert (ann.actual, ann.target, ann.expected) == (D(35), D(75), D(75))
    assert ann.pace is not None and abs(ann.pace - D(35) / D(75)) < D("0.001")
    assert ann.band == Band.BEHIND

    north = rows["unit", "north"].cells[week]  # its own goal, in two parts
    assert north is not None and not north.rolled_up
    assert (north.actual, north.target, north.expected) == (D(310), D(750), D(750))

    east = rows["unit", "east"].cells[week]  # no goal of its own: its people's, each part once
    assert east is not None and east.rolled_up
    assert (east.actual, east.target, east.expected) == (D(35), D(75), D(75))


def test_a_row_sent_again_joins_the_parts_of_a_week_too() -> None:
    """The live channel's row (row_view) reads one owner's goals as the grid does."""
    cells = own_cells(
        [
            {**progress("g-w05-jan", "north", "ann", "2026-W05", None), "actual": "30"},
            {**progress("g-w05-feb", "north", "ann", "2026-W05", None), "actual": "5"},
            progress("g-w06", "north", "ann", "2026-W06", "0.5"),
        ]
    )
    assert set(cells) == {"2026-W05", "2026-W06"}
    assert (cells["2026-W05"].actual, cells["2026-W05"].target) == (D(35), D(200))
    assert cells["2026-W05"].goal_id == "g-w05-jan" and cells["2026-W06"].goal_id == "g-w06"
