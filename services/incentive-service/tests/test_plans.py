"""A plan's terms: the shape the models accept and how `plan_problems` finds
components that do not fit together (DOMAIN.md §7)."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from incentive_service.domain.plans import (
    AttainmentBonus,
    Commission,
    PlanProblem,
    PlanTerms,
    Spiff,
    TeamBonus,
    ThresholdBonus,
    percent,
    plan_problems,
)

pytestmark = pytest.mark.unit


def commission(tiers: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {"kind": "commission", "id": "commission", "method": "marginal", "tiers": tiers, **more}


def tier(floor: str, ceiling: str | None, rate: str = "0.05") -> dict[str, Any]:
    return {"floor": floor, "ceiling": ceiling, "rate": rate}


def bonus(**more: Any) -> dict[str, Any]:
    return {
        "kind": "attainment_bonus",
        "id": "bonus",
        "target_incentive": "10000.00",
        "curve": [{"attainment": "0.5", "payout": "0.25"}, {"attainment": "1", "payout": "1"}],
        **more,
    }


def spiff(**more: Any) -> dict[str, Any]:
    return {
        "kind": "spiff",
        "id": "spiff",
        "window_from": "2026-03-01",
        "window_to": "2026-04-01",
        **more,
    }


def problems_of(*components: dict[str, Any]) -> list[tuple[str, str]]:
    terms = PlanTerms.model_validate({"components": list(components)})
    return [(problem.field, problem.code) for problem in plan_problems(terms)]


FULL_PLAN: dict[str, Any] = {
    "components": [
        commission(
            [tier("0", "1.0", "0.05"), tier("1.0", "1.5", "0.08"), tier("1.5", None, "0.1")]
        ),
        bonus(gate="0.5", cap="1.5"),
        {"kind": "threshold_bonus", "id": "over", "threshold": "1", "percent_of_commission": "0.1"},
        {"kind": "threshold_bonus", "id": "club", "threshold": "1.1", "amount": "2000.00"},
        spiff(product_line="cloud", min_amount="5000.00", rate="0.02"),
        {"kind": "team_bonus", "id": "team", "pool": "9000.00", "threshold": "1", "split": "equal"},
    ],
    "clawback_days": 60,
}


def test_a_plan_with_every_component_parses_by_kind_and_is_valid() -> None:
    terms = PlanTerms.model_validate(FULL_PLAN)

    kinds = [type(component) for component in terms.components]
    assert kinds == [
        Commission,
        AttainmentBonus,
        ThresholdBonus,
        ThresholdBonus,
        Spiff,
        TeamBonus,
    ]
    assert terms.clawback_days == 60
    assert plan_problems(terms) == []


def test_json_round_trip_keeps_the_terms() -> None:
    terms = PlanTerms.model_validate(FULL_PLAN)

    assert PlanTerms.model_validate_json(terms.model_dump_json()) == terms


def test_defaults_gate_zero_no_cap_and_a_90_day_clawback() -> None:
    terms = PlanTerms.model_validate({"components": [bonus()]})

    (component,) = terms.components
    assert isinstance(component, AttainmentBonus)
    assert component.gate == 0
    assert component.cap is None
    assert terms.clawback_days == 90


def test_terms_are_frozen() -> None:
    terms = PlanTerms.model_validate(FULL_PLAN)

    with pytest.raises(ValidationError):
        terms.clawback_days = 30  # type: ignore[misc]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"components": []}, ("components",)),
        ({"components": [bonus()], "surprise": 1}, ("surprise",)),
        ({"components": [bonus(extra=1)]}, ("components", 0, "attainment_bonus", "extra")),
        ({"components": [bonus(id="Bonus")]}, ("components", 0, "attainment_bonus", "id")),
        ({"components": [bonus(id="")]}, ("components", 0, "attainment_bonus", "id")),
        ({"components": [bonus(id="b" * 61)]}, ("components", 0, "attainment_bonus", "id")),
        (
            {"components": [bonus(target_incentive="0")]},
            ("components", 0, "attainment_bonus", "target_incentive"),
        ),
        ({"components": [bonus(curve=[])]}, ("components", 0, "attainment_bonus", "curve")),
        ({"components": [bonus(gate="-0.1")]}, ("components", 0, "attainment_bonus", "gate")),
        (
            {"components": [commission([tier("0", None, "1.01")])]},
            ("components", 0, "commission", "tiers", 0, "rate"),
        ),
        ({"components": [commission([])]}, ("components", 0, "commission", "tiers")),
        (
            {"components": [commission([tier("0", None)], method="stepped")]},
            ("components", 0, "commission", "method"),
        ),
        ({"components": [{"kind": "lottery", "id": "x"}]}, ("components", 0)),
        ({"components": [spiff(amount="10.001")]}, ("components", 0, "spiff", "amount")),
        ({"components": [spiff(rate="NaN")]}, ("components", 0, "spiff", "rate")),
        (
            {"components": [bonus()], "clawback_days": 3651},
            ("clawback_days",),
        ),
        (
            {
                "components": [
                    {
                        "kind": "team_bonus",
                        "id": "t",
                        "pool": "0",
                        "threshold": "1",
                        "split": "equal",
                    }
                ]
            },
            ("components", 0, "team_bonus", "pool"),
        ),
    ],
)
def test_shape_errors_name_the_field(body: dict[str, Any], location: tuple[str | int, ...]) -> None:
    with pytest.raises(ValidationError) as raised:
        PlanTerms.model_validate(body)

    assert [error["loc"] for error in raised.value.errors()] == [location]


def test_overlapping_tiers_name_the_later_floor() -> None:
    assert problems_of(commission([tier("0", "1.0"), tier("0.9", None)])) == [
        ("components.0.tiers.1.floor", "tiers_overlap")
    ]


def test_a_gap_between_tiers_names_the_later_floor() -> None:
    assert problems_of(commission([tier("0", "1.0"), tier("1.1", None)])) == [
        ("components.0.tiers.1.floor", "tiers_gap")
    ]


def test_tiers_must_start_at_zero() -> None:
    assert problems_of(commission([tier("0.1", None)])) == [
        ("components.0.tiers.0.floor", "tiers_start")
    ]


def test_a_tier_must_end_above_its_floor() -> None:
    assert problems_of(commission([tier("0", "0.5"), tier("0.5", "0.5"), tier("0.5", None)])) == [
        ("components.0.tiers.1.ceiling", "tier_empty")
    ]


def test_only_the_last_tier_may_be_open() -> None:
    assert problems_of(commission([tier("0", None), tier("1.0", None)])) == [
        ("components.0.tiers.0.ceiling", "tier_open")
    ]


def test_a_closed_last_tier_is_allowed() -> None:
    assert problems_of(commission([tier("0", "1.0"), tier("1.0", "2.0")])) == []


def test_reasons_name_the_numbers() -> None:
    terms = PlanTerms.model_validate(
        {"components": [commission([tier("0", "1.0"), tier("0.9", None)])]}
    )

    assert plan_problems(terms) == [
        PlanProblem(
            "components.0.tiers.1.floor",
            "tiers_overlap",
            "tier 1 starts at 90%, below the end of tier 0 at 100%",
        )
    ]


def test_a_curve_must_rise_in_attainment() -> None:
    curve = [
        {"attainment": "0.5", "payout": "0.2"},
        {"attainment": "0.5", "payout": "0.4"},
        {"attainment": "1.0", "payout": "1.0"},
    ]

    assert problems_of(bonus(curve=curve)) == [
        ("components.0.curve.1.attainment", "curve_not_monotone")
    ]


def test_a_curve_must_not_pay_less_for_more() -> None:
    curve = [
        {"attainment": "0.5", "payout": "0.5"},
        {"attainment": "1.0", "payout": "1.0"},
        {"attainment": "1.2", "payout": "0.9"},
    ]
    terms = PlanTerms.model_validate({"components": [bonus(curve=curve)]})

    assert plan_problems(terms) == [
        PlanProblem(
            "components.0.curve.2.payout",
            "curve_not_monotone",
            "point 2 pays 90%, less than point 1 at 100%",
        )
    ]


def test_a_flat_stretch_of_curve_is_allowed() -> None:
    curve = [{"attainment": "0.5", "payout": "1"}, {"attainment": "1.0", "payout": "1"}]

    assert problems_of(bonus(curve=curve)) == []


def test_the_cap_must_not_be_below_the_gate() -> None:
    assert problems_of(bonus(gate="0.5", cap="0.4")) == [("components.0.cap", "cap_below_gate")]
    assert problems_of(bonus(gate="0.5", cap="0.5")) == []


@pytest.mark.parametrize(
    "pays",
    [{}, {"amount": "100.00", "percent_of_commission": "0.1"}],
)
def test_a_threshold_bonus_pays_one_of_amount_or_percent(pays: dict[str, str]) -> None:
    threshold = {"kind": "threshold_bonus", "id": "over", "threshold": "1", **pays}

    assert problems_of(commission([tier("0", None)]), threshold) == [
        ("components.1.amount", "one_of")
    ]


@pytest.mark.parametrize("pays", [{}, {"amount": "100.00", "rate": "0.02"}])
def test_a_spiff_pays_one_of_amount_or_rate(pays: dict[str, str]) -> None:
    assert problems_of(spiff(**pays)) == [("components.0.amount", "one_of")]


@pytest.mark.parametrize("window_to", ["2026-03-01", "2026-02-28"])
def test_a_spiff_window_must_end_after_it_starts(window_to: str) -> None:
    assert problems_of(spiff(amount="100.00", window_to=window_to)) == [
        ("components.0.window_to", "window_empty")
    ]


def test_a_one_day_spiff_window_is_allowed() -> None:
    assert problems_of(spiff(amount="100.00", window_to="2026-03-02")) == []


def test_component_ids_are_unique() -> None:
    assert problems_of(bonus(id="b"), spiff(id="b", amount="1.00")) == [
        ("components.1.id", "duplicate_id")
    ]


def test_a_plan_has_at_most_one_commission() -> None:
    first = commission([tier("0", None)], id="a")
    second = commission([tier("0", None)], id="b")

    assert problems_of(first, second) == [("components.1", "one_commission")]


def test_a_percent_of_commission_needs_a_commission() -> None:
    over = {
        "kind": "threshold_bonus",
        "id": "over",
        "threshold": "1",
        "percent_of_commission": "0.1",
    }
    fixed = {"kind": "threshold_bonus", "id": "club", "threshold": "1", "amount": "500.00"}

    assert problems_of(over) == [("components.0.percent_of_commission", "needs_commission")]
    assert problems_of(fixed) == []
    assert problems_of(over, commission([tier("0", None)])) == []


def test_every_problem_is_reported_in_component_order() -> None:
    assert problems_of(
        commission([tier("0.1", "1.0"), tier("1.2", None)]),
        bonus(gate="1", cap="0.5"),
        spiff(id="commission", window_to="2026-01-01"),
    ) == [
        ("components.0.tiers.0.floor", "tiers_start"),
        ("components.0.tiers.1.floor", "tiers_gap"),
        ("components.1.cap", "cap_below_gate"),
        ("components.2.id", "duplicate_id"),
        ("components.2.amount", "one_of"),
        ("components.2.window_to", "window_empty"),
    ]


@pytest.mark.parametrize(
    ("fraction", "shown"),
    [
        ("1", "100%"),
        ("1.0", "100%"),
        ("0.05", "5%"),
        ("0.125", "12.5%"),
        ("0", "0%"),
        ("1.5", "150%"),
    ],
)
def test_fractions_read_as_percents(fraction: str, shown: str) -> None:
    assert percent(Decimal(fraction)) == shown


def test_spiff_window_dates_parse() -> None:
    terms = PlanTerms.model_validate({"components": [spiff(amount="100.00")]})

    (component,) = terms.components
    assert isinstance(component, Spiff)
    assert (component.window_from, component.window_to) == (date(2026, 3, 1), date(2026, 4, 1))
