"""The SMART check of DOMAIN.md §3: which findings are errors, which warnings,
and where each threshold lies."""

from datetime import date
from decimal import Decimal as D

import pytest

from attain_contracts import Period
from goal_service.domain.smart import Draft, History, Resources, check

YEAR = Period(key="FY2026", start=date(2026, 1, 1), end=date(2026, 12, 31))
CEILING = D("0.5")


def draft(**changes: object) -> Draft:
    fields: dict[str, object] = {
        "owner_id": "ann",
        "metric_known": True,
        "target": D(1_200_000),
        "period": YEAR,
        "parent_period": None,
        "months": D(12),
        "resources": Resources(None, None),
    }
    return Draft(**{**fields, **changes})  # type: ignore[arg-type]


def codes(findings: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {f.code: f.severity for f in findings}


def test_a_sound_goal_has_no_findings() -> None:
    assert check(draft(), growth_ceiling=CEILING) == []


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"owner_id": None}, "no_owner", "owner_id"),
        ({"target": D(0)}, "non_positive_target", "target"),
        ({"target": D(-1)}, "non_positive_target", "target"),
        ({"metric_known": False}, "not_measurable", "metric"),
        (
            {"parent_period": Period(start=date(2026, 1, 1), end=date(2026, 6, 30))},
            "period_outside_parent",
            "period_key",
        ),
    ],
)
def test_errors(changes: dict[str, object], code: str, field: str) -> None:
    findings = check(draft(**changes), growth_ceiling=CEILING)
    assert [(f.code, f.severity, f.field) for f in findings] == [(code, "error", field)]


def test_growth_just_above_the_ceiling_warns_and_at_it_does_not() -> None:
    at = History(last_year=D(800_000), best_month=None)  # 1,200,000 is +50%
    assert "growth_above_ceiling" not in codes(check(draft(), growth_ceiling=CEILING, history=at))
    below = History(last_year=D(799_999), best_month=None)
    found = codes(check(draft(), growth_ceiling=CEILING, history=below))
    assert found["growth_above_ceiling"] == "warning"


def test_a_run_rate_above_the_best_month_ever_warns() -> None:
    best = History(last_year=None, best_month=D(100_000))  # 1,200,000 / 12 = 100,000
    assert check(draft(), growth_ceiling=CEILING, history=best) == []
    lower = History(last_year=None, best_month=D(99_999))
    assert codes(check(draft(), growth_ceiling=CEILING, history=lower)) == {
        "above_best_month": "warning"
    }


def test_growth_needs_more_budget_or_headcount_than_last_year() -> None:
    last_year = History(
        last_year=D(900_000), best_month=None, last_year_resources=Resources(D(50_000), 10)
    )
    flat = draft(resources=Resources(D(50_000), 10))
    assert "growth_without_resources" in codes(
        check(flat, growth_ceiling=CEILING, history=last_year)
    )
    hired = draft(resources=Resources(D(50_000), 12))
    assert "growth_without_resources" not in codes(
        check(hired, growth_ceiling=CEILING, history=last_year)
    )


def test_small_growth_needs_no_new_resources() -> None:
    history = History(last_year=D(1_100_000), best_month=None)  # +9%
    assert check(draft(), growth_ceiling=CEILING, history=history) == []


def test_children_that_do_not_add_up_warn_unless_the_metric_never_sums() -> None:
    children = [D(600_000), D(500_000)]
    found = check(draft(), growth_ceiling=CEILING, children_targets=children)
    assert codes(found) == {"children_do_not_add_up": "warning"}
    assert check(draft(), growth_ceiling=CEILING, children_targets=children, adds_up=False) == []
    exact = [D(600_000), D(600_000)]
    assert check(draft(), growth_ceiling=CEILING, children_targets=exact) == []


def test_children_that_add_up_to_the_stretched_target_add_up() -> None:
    """A split with stretch 1.1 makes children that add up to 1,320,000 for a
    target of 1,200,000: what the plan meant, not a mistake."""
    stretched = [D(660_000), D(660_000)]
    assert check(draft(), growth_ceiling=CEILING, children_targets=stretched) != []
    assert (
        check(draft(), growth_ceiling=CEILING, children_targets=stretched, stretch=D("1.1")) == []
    )
    # Rounded half-up to the unit, as the split rounds it: 1,000 x 1.0005 = 1000.5 → 1001.
    odd = draft(target=D(1000))
    assert (
        check(odd, growth_ceiling=CEILING, children_targets=[D(500), D(501)], stretch=D("1.0005"))
        == []
    )
    # Children that add up to the unstretched target are off now.
    found = check(
        draft(), growth_ceiling=CEILING, children_targets=[D(600_000)] * 2, stretch=D("1.1")
    )
    assert codes(found) == {"children_do_not_add_up": "warning"}
    assert "1320000" in found[0].message and "stretch 1.1" in found[0].message


def test_lower_is_better_goals_are_not_judged_by_growth() -> None:
    history = History(last_year=D(10), best_month=D(1))
    assert check(draft(lower_is_better=True), growth_ceiling=CEILING, history=history) == []
