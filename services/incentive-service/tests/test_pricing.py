"""Pricing a statement against a plan's terms (DOMAIN.md §7): every component
at and around its edges, the order and arithmetic of the lines, and the
invariants a statement keeps whatever the plan and the credits."""

# ruff: noqa: RUF001 - formulas are typeset as a statement shows them: times sign, dashes, minus.

from datetime import date, timedelta
from decimal import Decimal
from random import Random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incentive_service.domain.plans import (
    AttainmentBonus,
    Commission,
    Component,
    CurvePoint,
    PlanTerms,
    Spiff,
    TeamBonus,
    ThresholdBonus,
    Tier,
    plan_problems,
)
from incentive_service.domain.pricing import (
    Adjustment,
    Credit,
    DealChange,
    Line,
    NextStep,
    Priced,
    Quota,
    TeamStanding,
    commission_lines,
    curve_payout,
    deal_changes,
    next_steps,
    price_statement,
    team_shares,
)
from servicekit.money import round_half_up

pytestmark = pytest.mark.unit

D = Decimal
QUOTA = Quota("g-q1", D("100000"))
MARCH = date(2026, 3, 2)


def plan(*components: dict[str, Any]) -> PlanTerms:
    terms = PlanTerms.model_validate({"components": list(components)})
    assert plan_problems(terms) == []
    return terms


def commission(
    method: str = "marginal", tiers: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "kind": "commission",
        "id": "comm",
        "method": method,
        "tiers": tiers
        or [
            {"floor": "0", "ceiling": "1.0", "rate": "0.05"},
            {"floor": "1.0", "ceiling": None, "rate": "0.08"},
        ],
    }


def bonus(**more: Any) -> dict[str, Any]:
    return {
        "kind": "attainment_bonus",
        "id": "bonus",
        "target_incentive": "10000.00",
        "curve": [
            {"attainment": "0.5", "payout": "0.25"},
            {"attainment": "1.0", "payout": "1.0"},
            {"attainment": "1.5", "payout": "2.0"},
        ],
        **more,
    }


def threshold(**more: Any) -> dict[str, Any]:
    return {"kind": "threshold_bonus", "id": "over", "threshold": "1.0", **more}


def spiff(**more: Any) -> dict[str, Any]:
    return {
        "kind": "spiff",
        "id": "cloud-push",
        "product_line": "cloud",
        "min_amount": "5000.00",
        "window_from": "2026-03-01",
        "window_to": "2026-04-01",
        "rate": "0.02",
        **more,
    }


def team_bonus(split: str = "equal") -> dict[str, Any]:
    return {
        "kind": "team_bonus",
        "id": "team",
        "pool": "10000.00",
        "threshold": "1.0",
        "split": split,
    }


def credit(
    amount: str,
    deal: str = "d1",
    day: date = MARCH,
    product_line: str | None = None,
    entry: str | None = None,
) -> Credit:
    return Credit(entry or f"e-{deal}-{day}-{amount}", deal, day, D(amount), product_line)


def revenue(amount: str) -> list[Credit]:
    return [credit(amount)]


def price(
    terms: PlanTerms,
    credits: list[Credit],
    quota: Quota | None = QUOTA,
    team: TeamStanding | None = None,
    adjustments: tuple[Adjustment, ...] = (),
    person_id: str = "p1",
) -> Priced:
    return price_statement(
        terms,
        quota=quota,
        credits=credits,
        person_id=person_id,
        team=team,
        adjustments=adjustments,
    )


def amounts(priced: Priced, kind: str | None = None) -> list[Decimal]:
    return [line.amount for line in priced.lines if kind is None or line.kind == kind]


# The worked example of DOMAIN.md §7.


def test_worked_example_marginal_pays_each_slice_at_its_tier() -> None:
    priced = price(plan(commission("marginal")), revenue("120000"))

    assert priced.lines == (
        Line(
            "commission",
            "comm",
            "goal:g-q1",
            D("100000"),
            D("0.05"),
            D("5000.00"),
            "100,000.00 of revenue in tier 0%–100% × 5% = 5,000.00",
        ),
        Line(
            "commission",
            "comm",
            "goal:g-q1",
            D("20000"),
            D("0.08"),
            D("1600.00"),
            "20,000.00 of revenue in tier 100%+ × 8% = 1,600.00",
        ),
    )
    assert priced.total == D("6600.00")
    assert priced.revenue == D("120000")
    assert priced.attainment == D("1.2")
    assert priced.warnings == ()


def test_worked_example_retroactive_pays_all_revenue_at_the_tier_reached() -> None:
    priced = price(plan(commission("retroactive")), revenue("120000"))

    assert priced.lines == (
        Line(
            "commission",
            "comm",
            "goal:g-q1",
            D("120000"),
            D("0.08"),
            D("9600.00"),
            "120,000.00 of revenue at 120.0% attainment in tier 100%+ × 8% = 9,600.00",
        ),
    )
    assert priced.total == D("9600.00")


# Commission at the tier edge.


def test_marginal_exactly_at_the_edge_fills_the_first_tier_only() -> None:
    priced = price(plan(commission("marginal")), revenue("100000"))

    assert [(line.basis, line.rate) for line in priced.lines] == [(D("100000"), D("0.05"))]
    assert priced.total == D("5000.00")


def test_marginal_a_cent_above_the_edge_opens_the_next_tier() -> None:
    priced = price(plan(commission("marginal")), revenue("100000.01"))

    assert [(line.basis, line.rate, line.amount) for line in priced.lines] == [
        (D("100000"), D("0.05"), D("5000.00")),
        (D("0.01"), D("0.08"), D("0.00")),
    ]


def test_marginal_a_cent_below_the_edge_stays_in_the_first_tier() -> None:
    priced = price(plan(commission("marginal")), revenue("99999.99"))

    assert [(line.basis, line.rate, line.amount) for line in priced.lines] == [
        (D("99999.99"), D("0.05"), D("5000.00"))
    ]


def test_retroactive_exactly_at_the_edge_is_in_the_tier_starting_there() -> None:
    (line,) = price(plan(commission("retroactive")), revenue("100000")).lines

    assert (line.rate, line.amount) == (D("0.08"), D("8000.00"))
    assert "in tier 100%+" in line.formula


def test_retroactive_a_cent_below_the_edge_is_in_the_tier_below() -> None:
    (line,) = price(plan(commission("retroactive")), revenue("99999.99")).lines

    assert (line.rate, line.amount) == (D("0.05"), D("5000.00"))
    assert "at 99.9% attainment in tier 0%–100%" in line.formula


def test_a_closed_last_tier_caps_both_methods() -> None:
    tiers = [
        {"floor": "0", "ceiling": "1.0", "rate": "0.05"},
        {"floor": "1.0", "ceiling": "1.5", "rate": "0.08"},
    ]

    marginal = price(plan(commission("marginal", tiers)), revenue("200000"))
    retroactive = price(plan(commission("retroactive", tiers)), revenue("200000"))

    assert amounts(marginal) == [D("5000.00"), D("4000.00")]
    (line,) = retroactive.lines
    assert (line.basis, line.amount) == (D("150000.0"), D("12000.00"))
    assert line.formula == (
        "150,000.00 of revenue at 200.0% attainment (the tiers end at 150%)"
        " in tier 100%–150% × 8% = 12,000.00"
    )


@pytest.mark.parametrize("method", ["marginal", "retroactive"])
def test_no_revenue_still_explains_itself_with_a_zero_line(method: str) -> None:
    (line,) = price(plan(commission(method)), []).lines

    assert (line.kind, line.basis, line.rate, line.amount) == ("commission", D(0), D("0.05"), D(0))
    assert line.formula.endswith("in tier 0%–100% × 5% = 0.00")


@pytest.mark.parametrize("method", ["marginal", "retroactive"])
def test_negative_revenue_earns_no_commission(method: str) -> None:
    (line,) = price(plan(commission(method)), revenue("-500")).lines

    assert line.amount == 0
    assert line.formula.startswith("revenue −500.00 counts as 0.00: 0.00 of revenue")


@pytest.mark.parametrize("quota", [None, Quota("g-q1", D("0")), Quota("g-q1", D("-5"))])
def test_without_a_usable_quota_all_revenue_earns_the_first_rate(quota: Quota | None) -> None:
    priced = price(plan(commission("retroactive")), revenue("120000"), quota=quota)

    assert priced.attainment is None
    assert priced.lines == (
        Line(
            "commission",
            "comm",
            "revenue",
            D("120000"),
            D("0.05"),
            D("6000.00"),
            "120,000.00 of revenue without a quota at the first tier's rate × 5% = 6,000.00",
        ),
    )
    (warning,) = priced.warnings
    assert warning.startswith("no quota")


def test_a_zero_target_is_named_in_the_warning() -> None:
    priced = price(plan(commission()), revenue("1"), quota=Quota("g-q1", D("0")))

    assert priced.warnings[0].startswith("no quota (goal g-q1 has a target of 0.00)")


def test_a_plan_without_quota_based_components_does_not_warn_about_the_quota() -> None:
    assert price(plan(spiff()), revenue("1"), quota=None).warnings == ()


# Attainment bonus.


def test_the_attainment_bonus_pays_exactly_at_the_gate() -> None:
    (line,) = price(plan(bonus(gate="0.5")), revenue("50000")).lines

    assert (line.kind, line.basis, line.rate, line.amount) == (
        "attainment_bonus",
        D("10000.00"),
        D("0.25"),
        D("2500.00"),
    )
    assert line.formula == ("attainment 50.0%: target incentive 10,000.00 × curve 25% = 2,500.00")


def test_the_attainment_bonus_pays_nothing_a_cent_below_the_gate() -> None:
    (line,) = price(plan(bonus(gate="0.5")), revenue("49999.99")).lines

    assert (line.kind, line.amount) == ("attainment_bonus", D("0.00"))
    assert line.formula == "attainment 49.9% is below the gate 50%: 0.00"


def test_at_the_cap_and_above_it_the_bonus_is_the_same() -> None:
    terms = plan(bonus(cap="1.2"))

    (at_cap,) = price(terms, revenue("120000")).lines
    (above,) = price(terms, revenue("150000")).lines

    assert at_cap.amount == above.amount == D("14000.00")
    assert above.formula == (
        "attainment 150.0% counts as the cap 120%:"
        " target incentive 10,000.00 × curve 140% = 14,000.00"
    )


def test_the_curve_is_linear_between_points() -> None:
    (line,) = price(plan(bonus()), revenue("75000")).lines

    assert (line.rate, line.amount) == (D("0.625"), D("6250.00"))


@pytest.mark.parametrize(
    ("attainment", "payout"),
    [
        ("0", "0"),
        ("0.25", "0.125"),
        ("0.5", "0.25"),
        ("0.75", "0.625"),
        ("1.0", "1.0"),
        ("1.25", "1.5"),
        ("1.5", "2.0"),
        ("3", "2.0"),
        ("-0.2", "0"),
    ],
)
def test_curve_payout_from_zero_through_the_points_then_flat(attainment: str, payout: str) -> None:
    curve = [
        CurvePoint(attainment=D("0.5"), payout=D("0.25")),
        CurvePoint(attainment=D("1.0"), payout=D("1.0")),
        CurvePoint(attainment=D("1.5"), payout=D("2.0")),
    ]

    assert curve_payout(curve, D(attainment)) == D(payout)


def test_a_curve_starting_at_zero_attainment_pays_its_first_point_there() -> None:
    curve = [CurvePoint(attainment=D(0), payout=D("0.5")), CurvePoint(attainment=D(1), payout=D(1))]

    assert curve_payout(curve, D(0)) == D("0.5")


def test_an_interpolated_multiplier_reads_to_a_hundredth_of_a_percent() -> None:
    terms = plan(bonus(curve=[{"attainment": "0.3", "payout": "1"}]))

    (line,) = price(terms, revenue("10000")).lines

    assert line.amount == D("3333.33")
    assert "curve 33.33% = 3,333.33" in line.formula


def test_the_attainment_bonus_without_a_quota_pays_zero_and_warns() -> None:
    priced = price(plan(bonus()), revenue("150000"), quota=None)

    (line,) = priced.lines
    assert (line.source, line.amount) == ("revenue", D("0.00"))
    assert len(priced.warnings) == 1


# Threshold bonus.


def test_the_threshold_bonus_pays_exactly_at_100_percent() -> None:
    priced = price(plan(commission(), threshold(percent_of_commission="0.1")), revenue("100000"))

    assert priced.lines[-1] == Line(
        "threshold_bonus",
        "over",
        "goal:g-q1",
        D("5000.00"),
        D("0.1"),
        D("500.00"),
        "attainment 100.0% ≥ 100%: 5,000.00 of commission × 10% = 500.00",
    )
    assert priced.total == D("5500.00")


def test_the_threshold_bonus_is_absent_a_cent_below() -> None:
    priced = price(plan(commission(), threshold(percent_of_commission="0.1")), revenue("99999.99"))

    assert [line.kind for line in priced.lines] == ["commission"]


def test_the_threshold_bonus_takes_the_rounded_commission_lines() -> None:
    tiers: list[dict[str, Any]] = [
        {"floor": "0", "ceiling": "1.0", "rate": "0.00004"},
        {"floor": "1.0", "ceiling": None, "rate": "0.00004"},
    ]
    terms = plan(commission("marginal", tiers), threshold(percent_of_commission="0.5"))

    priced = price(terms, revenue("100125"))

    # 4.00 and 0.005 → 0.01 are paid: half of the 4.01 paid is 2.005 → 2.01,
    # where half of the unrounded 4.005 would be 2.0025 → 2.00.
    assert amounts(priced) == [D("4.00"), D("0.01"), D("2.01")]


def test_a_fixed_threshold_bonus() -> None:
    (line,) = price(plan(threshold(threshold="1.1", amount="2000.00")), revenue("110000")).lines

    assert (line.basis, line.rate, line.amount) == (D("2000.00"), None, D("2000.00"))
    assert line.formula == "attainment 110.0% ≥ 110%: fixed 2,000.00"


def test_no_threshold_bonus_without_a_quota() -> None:
    terms = plan(threshold(amount="2000.00"))

    priced = price(terms, revenue("900000"), quota=None)

    assert priced.lines == ()
    assert len(priced.warnings) == 1


# SPIFF.


def test_spiff_window_from_is_in_and_window_to_is_out() -> None:
    credits = [
        credit("6000", "in", date(2026, 3, 1), "cloud"),
        credit("6000", "out", date(2026, 4, 1), "cloud"),
        credit("6000", "before", date(2026, 2, 28), "cloud"),
    ]

    lines = price(plan(spiff()), credits).lines

    assert [(line.source, line.amount) for line in lines] == [("deal:in", D("120.00"))]
    assert lines[0].formula == "deal in on 2026-03-01: 6,000.00 × 2% = 120.00"


def test_spiff_at_the_minimum_is_in_a_cent_below_is_out() -> None:
    credits = [
        credit("5000.00", "at", product_line="cloud"),
        credit("4999.99", "below", product_line="cloud"),
    ]

    lines = price(plan(spiff()), credits).lines

    assert [(line.source, line.basis, line.amount) for line in lines] == [
        ("deal:at", D("5000.00"), D("100.00"))
    ]


def test_spiff_matches_the_product_line_or_any_when_unset() -> None:
    credits = [
        credit("6000", "c", product_line="cloud"),
        credit("6000", "o", product_line="onprem"),
    ]

    only_cloud = price(plan(spiff()), credits).lines
    any_line = price(plan(spiff(product_line=None)), credits).lines

    assert [line.source for line in only_cloud] == ["deal:c"]
    assert [line.source for line in any_line] == ["deal:c", "deal:o"]


def test_spiff_nets_a_deal_and_dates_it_by_its_first_credit() -> None:
    credits = [
        credit("7000", "split", date(2026, 3, 5), "cloud"),
        credit("-1500", "split", date(2026, 3, 20), "cloud"),
        credit("6000", "early", date(2026, 3, 6), "cloud"),
        credit("6000", "early", date(2026, 2, 25), "cloud"),
        credit("6000", "undone", date(2026, 3, 7), "cloud"),
        credit("-6000", "undone", date(2026, 3, 8), "cloud"),
    ]

    lines = price(plan(spiff()), credits).lines

    assert [(line.source, line.basis, line.amount) for line in lines] == [
        ("deal:split", D("5500"), D("110.00"))
    ]


def test_spiff_lines_run_by_day_then_deal() -> None:
    credits = [
        credit("6000", "b", date(2026, 3, 3), "cloud"),
        credit("6000", "c", date(2026, 3, 2), "cloud"),
        credit("6000", "a", date(2026, 3, 3), "cloud"),
    ]

    lines = price(plan(spiff(amount="250.00", rate=None)), credits).lines

    assert [(line.source, line.amount) for line in lines] == [
        ("deal:c", D("250.00")),
        ("deal:a", D("250.00")),
        ("deal:b", D("250.00")),
    ]
    assert lines[0].formula == "deal c on 2026-03-02 (6,000.00): fixed 250.00"


# Team bonus.

MEMBERS = ("p1", "p2", "p3")


def standing(
    actual: str = "500000", contributions: tuple[str, ...] = ("0", "0", "0")
) -> TeamStanding:
    return TeamStanding(
        "u-east", "g-team", D("500000"), D(actual), MEMBERS, tuple(D(c) for c in contributions)
    )


def test_the_team_bonus_pays_exactly_at_the_threshold_split_equally() -> None:
    priced = price(plan(team_bonus()), [], team=standing("500000"))

    assert priced.lines == (
        Line(
            "team_bonus",
            "team",
            "team goal:g-team",
            D("10000.00"),
            None,
            D("3333.34"),
            "team attainment 100.0% ≥ 100%: pool 10,000.00 split equally among 3 = 3,333.34",
        ),
    )
    assert amounts(price(plan(team_bonus()), [], team=standing(), person_id="p3")) == [D("3333.33")]


def test_the_team_bonus_is_absent_a_cent_below_the_threshold() -> None:
    priced = price(plan(team_bonus()), [], team=standing("499999.99"))

    assert (priced.lines, priced.warnings) == ((), ())


def test_the_team_bonus_split_by_contribution() -> None:
    team = standing(contributions=("200000", "300000", "-100"))

    (line,) = price(plan(team_bonus("contribution")), [], team=team, person_id="p2").lines

    assert line.amount == D("6000.00")
    assert "split by contribution, 300,000.00 of 500,000.00 = 6,000.00" in line.formula


def test_no_contribution_at_all_splits_equally() -> None:
    (line,) = price(plan(team_bonus("contribution")), [], team=standing()).lines

    assert line.amount == D("3333.34")
    assert "split equally among 3, as no one contributed" in line.formula


@pytest.mark.parametrize(
    ("team", "person_id", "warning"),
    [
        (None, "p1", "no team goal: team bonus team is not paid"),
        (
            TeamStanding("u-east", "g-team", D("0"), D("10"), MEMBERS, (D(0),) * 3),
            "p1",
            "team goal g-team has a target of 0.00: team bonus team is not paid",
        ),
        (standing(), "p9", "p9 is not a member of team u-east: team bonus team is not paid"),
    ],
)
def test_an_unpaid_team_bonus_says_why(
    team: TeamStanding | None, person_id: str, warning: str
) -> None:
    priced = price(plan(team_bonus()), [], team=team, person_id=person_id)

    assert (priced.lines, priced.warnings) == ((), (warning,))


def test_a_member_without_a_quota_gets_no_share_and_is_told_why() -> None:
    team = TeamStanding(
        "u-east", "g-team", D("500000"), D("500000"), MEMBERS, (D(0),) * 3, without_quota=("m1",)
    )

    priced = price(plan(team_bonus()), [], team=team, person_id="m1")

    assert priced.lines == ()
    assert priced.warnings == (
        "m1 carries no quota in team u-east: team bonus team is not paid to them",
    )


@pytest.mark.parametrize(
    ("split", "contributions", "shares"),
    [
        ("equal", ["5", "0", "1"], ["3333.34", "3333.33", "3333.33"]),
        ("contribution", ["1", "1", "1"], ["3333.34", "3333.33", "3333.33"]),
        ("contribution", ["200000", "300000", "0"], ["4000.00", "6000.00", "0.00"]),
        ("contribution", ["-5", "1", "3"], ["0.00", "2500.00", "7500.00"]),
        ("contribution", ["0", "-1", "0"], ["3333.34", "3333.33", "3333.33"]),
    ],
)
def test_team_shares_add_up_to_the_pool(
    split: str, contributions: list[str], shares: list[str]
) -> None:
    result = team_shares(D("10000.00"), split, MEMBERS, [D(c) for c in contributions])

    assert result == dict(zip(MEMBERS, map(D, shares), strict=True))
    assert sum(result.values()) == D("10000.00")


def test_team_shares_refuse_an_unknown_split() -> None:
    with pytest.raises(ValueError, match="unknown split"):
        team_shares(D("100.00"), "seniority", MEMBERS, [D(1)] * 3)


# Adjustments.


def test_a_correction_paid_too_much_is_a_clawback() -> None:
    (line,) = price(
        plan(spiff()), [], adjustments=(Adjustment("FY2026-Q1", D("4200.00"), D("4800.00")),)
    ).lines

    assert line == Line(
        "clawback",
        None,
        "statement:FY2026-Q1",
        D("4200.00"),
        None,
        D("-600.00"),
        "FY2026-Q1 restated 4,200.00 − paid 4,800.00 = −600.00",
    )


def test_adjustments_run_by_period_and_skip_zero() -> None:
    adjustments = (
        Adjustment("FY2026-Q2", D("100.00"), D("40.00")),
        Adjustment("FY2026-Q1", D("10.00"), D("10.00")),
        Adjustment("FY2025-Q4", D("0.00"), D("25.50")),
    )

    priced = price(plan(spiff()), [], adjustments=adjustments)

    assert [(line.kind, line.source, line.amount) for line in priced.lines] == [
        ("clawback", "statement:FY2025-Q4", D("-25.50")),
        ("adjustment", "statement:FY2026-Q2", D("60.00")),
    ]
    assert priced.total == D("34.50")


def test_a_clawback_names_each_deal_behind_it_with_its_amount_and_period() -> None:
    behind = (DealChange("D2", D("-50000")), DealChange("D7", D("1200.50")))

    (line,) = price(
        plan(spiff()),
        [],
        adjustments=(Adjustment("FY2026-Q1", D("3500.00"), D("6600.00"), behind),),
    ).lines

    assert (line.kind, line.amount) == ("clawback", D("-3100.00"))
    assert line.deals == ((behind[0], "FY2026-Q1"), (behind[1], "FY2026-Q1"))
    assert line.formula == (
        "FY2026-Q1 restated 3,500.00 − paid 6,600.00 = −3,100.00"
        " (deal D2 −50,000.00, deal D7 +1,200.50 from FY2026-Q1)"
    )


def test_a_correction_after_the_window_is_a_zero_line_saying_why() -> None:
    late = Adjustment(
        "2025-12",
        D("500.00"),
        D("500.00"),
        (DealChange("D9", D("-10000")),),
        window_closed=date(2026, 1, 30),
    )

    priced = price(plan(spiff()), [], adjustments=(late,))

    (line,) = priced.lines
    assert (line.kind, line.amount, line.source) == (
        "late_correction",
        D("0.00"),
        "statement:2025-12",
    )
    assert line.deals == ((late.deals[0], "2025-12"),)
    assert line.formula == (
        "deal D9 −10,000.00 changed in 2025-12 after its clawback window closed on 2026-01-30:"
        " not clawed back = 0.00"
    )
    assert priced.total == D("0.00")


def test_deal_changes_net_each_deal_and_skip_rows_already_named() -> None:
    rows = [
        credit("-500", "D2", date(2026, 3, 5), entry="e1"),
        credit("200", "D2", date(2026, 3, 6), entry="e2"),
        credit("700", "D1", date(2026, 3, 9), entry="e3"),
        credit("-700", "D1", date(2026, 3, 9), entry="e4"),
        credit("90", "D3", date(2026, 2, 1), entry="e5"),
    ]

    assert deal_changes(rows) == (
        DealChange("D3", D("90"), ("e5",)),
        DealChange("D2", D("-300"), ("e1", "e2")),
    )
    assert deal_changes(rows, {"e1", "e5"}) == (DealChange("D2", D("200"), ("e2",)),)


@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(-10_000, 10_000)), max_size=12
    ),
    st.sets(st.integers(0, 11)),
)
def test_deal_changes_add_up_to_the_rows_not_yet_named(
    rows: list[tuple[str, int]], named: set[int]
) -> None:
    credits = [
        credit(str(amount), deal, MARCH, entry=f"e{i}") for i, (deal, amount) in enumerate(rows)
    ]
    entries = {f"e{i}" for i in named}

    changes = deal_changes(credits, entries)

    fresh = [c for c in credits if c.entry_id not in entries]
    assert sum((c.amount for c in changes), D(0)) == sum((c.amount for c in fresh), D(0))
    assert all(change.amount != 0 for change in changes)
    assert not {e for change in changes for e in change.entries} & entries


# The statement as a whole.


def test_lines_run_by_kind_then_plan_order() -> None:
    terms = plan(
        team_bonus(),
        spiff(id="s2", amount="10.00", rate=None),
        threshold(id="t2", threshold="1.1", amount="100.00"),
        bonus(),
        threshold(id="t1", percent_of_commission="0.1"),
        spiff(id="s1"),
        commission(),
    )
    credits = [
        credit("60000", "a", product_line="cloud"),
        credit("60000", "b", product_line="cloud"),
    ]

    priced = price(
        terms,
        credits,
        team=standing(),
        adjustments=(Adjustment("FY2026-Q1", D("1.00"), D("0.00")),),
    )

    assert [(line.kind, line.component_id, line.source) for line in priced.lines] == [
        ("commission", "comm", "goal:g-q1"),
        ("commission", "comm", "goal:g-q1"),
        ("attainment_bonus", "bonus", "goal:g-q1"),
        ("threshold_bonus", "t2", "goal:g-q1"),
        ("threshold_bonus", "t1", "goal:g-q1"),
        ("spiff", "s2", "deal:a"),
        ("spiff", "s2", "deal:b"),
        ("spiff", "s1", "deal:a"),
        ("spiff", "s1", "deal:b"),
        ("team_bonus", "team", "team goal:g-team"),
        ("adjustment", None, "statement:FY2026-Q1"),
    ]
    assert priced.total == sum(amounts(priced))


# What is needed for the next step.


def test_next_tier_from_nothing() -> None:
    steps = next_steps(plan(commission()), quota=Quota("g", D("120000")), revenue=D(0))

    assert steps == [
        NextStep(
            "comm",
            "tier",
            D("1.0"),
            D("120000.00"),
            "120,000.00 more revenue reaches tier 100%+ at 8%",
        )
    ]


def test_the_next_tier_is_the_nearest_one_ahead() -> None:
    tiers: list[dict[str, Any]] = [
        {"floor": "0", "ceiling": "0.5", "rate": "0.02"},
        {"floor": "0.5", "ceiling": "1.0", "rate": "0.05"},
        {"floor": "1.0", "ceiling": None, "rate": "0.08"},
    ]

    (step,) = next_steps(plan(commission(tiers=tiers)), quota=QUOTA, revenue=D("20000"))

    assert step.description == "30,000.00 more revenue reaches tier 50%–100% at 5%"


def test_next_steps_nearest_first_and_only_those_not_reached() -> None:
    terms = plan(
        threshold(id="club", threshold="1.1", amount="2000.00"),
        commission(),
        bonus(gate="0.5"),
        threshold(id="reached", threshold="0.2", amount="1.00"),
    )

    steps = next_steps(terms, quota=QUOTA, revenue=D("30000"))

    assert [(s.component_id, s.kind, s.attainment, s.revenue_needed) for s in steps] == [
        ("bonus", "gate", D("0.5"), D("20000.00")),
        ("comm", "tier", D("1.0"), D("70000.00")),
        ("club", "threshold", D("1.1"), D("80000.00")),
    ]
    assert (
        steps[0].description
        == "20,000.00 more revenue reaches the gate 50% of attainment bonus bonus"
    )
    assert steps[2].description == (
        "80,000.00 more revenue reaches 110%, where threshold bonus club pays 2,000.00"
    )


def test_next_steps_needing_the_same_revenue_keep_plan_order() -> None:
    terms = plan(threshold(percent_of_commission="0.1"), commission())

    steps = next_steps(terms, quota=QUOTA, revenue=D("99999.99"))

    assert [(s.component_id, s.revenue_needed) for s in steps] == [
        ("over", D("0.01")),
        ("comm", D("0.01")),
    ]
    assert steps[0].description.endswith("pays 10% of commission")


def test_the_revenue_needed_is_rounded_up_to_a_whole_cent() -> None:
    tiers: list[dict[str, Any]] = [
        {"floor": "0", "ceiling": "0.33333333", "rate": "0.05"},
        {"floor": "0.33333333", "ceiling": None, "rate": "0.08"},
    ]

    # The tier starts at 33,333.333: 0.003 short is a whole cent short.
    (step,) = next_steps(plan(commission(tiers=tiers)), quota=QUOTA, revenue=D("33333.33"))

    assert step.revenue_needed == D("0.01")


def test_no_next_step_past_the_last_tier_or_without_a_quota() -> None:
    terms = plan(commission())

    assert next_steps(terms, quota=QUOTA, revenue=D("100000")) == []
    assert next_steps(terms, quota=None, revenue=D(0)) == []
    assert next_steps(terms, quota=Quota("g", D(0)), revenue=D(0)) == []


# Properties.

PERSONS = ("p1", "p2", "p3")
DEALS = ("d1", "d2", "d3", "d4", "d5")
LINES = (None, "cloud", "onprem")
DAYS = st.dates(min_value=date(2026, 2, 20), max_value=date(2026, 4, 10))
rates = st.decimals(min_value=0, max_value=1, places=3)
fractions = st.decimals(min_value=0, max_value=3, places=2)
money = st.decimals(min_value=0, max_value=50000, places=2)
signed_money = st.decimals(min_value=-50000, max_value=200000, places=2)


@st.composite
def tier_lists(draw: st.DrawFn) -> list[Tier]:
    edges = sorted(draw(st.sets(st.decimals(min_value="0.01", max_value=3, places=2), max_size=4)))
    floors = [D(0), *edges]
    last = draw(st.none() | st.decimals(min_value="0.01", max_value=1, places=2))
    ceilings: list[Decimal | None] = [*edges, None if last is None else floors[-1] + last]
    return [
        Tier(floor=floor, ceiling=ceiling, rate=draw(rates))
        for floor, ceiling in zip(floors, ceilings, strict=True)
    ]


@st.composite
def attainment_bonuses(draw: st.DrawFn, index: int) -> AttainmentBonus:
    points = sorted(draw(st.sets(fractions, min_size=1, max_size=4)))
    payouts = sorted(draw(st.lists(fractions, min_size=len(points), max_size=len(points))))
    gate = draw(fractions)
    return AttainmentBonus(
        kind="attainment_bonus",
        id=f"bonus-{index}",
        target_incentive=draw(st.decimals(min_value="0.01", max_value=50000, places=2)),
        curve=[CurvePoint(attainment=a, payout=p) for a, p in zip(points, payouts, strict=True)],
        gate=gate,
        cap=draw(st.none() | st.decimals(min_value=gate, max_value=3, places=2)),
    )


@st.composite
def spiffs(draw: st.DrawFn, index: int) -> Spiff:
    start = draw(DAYS)
    fixed = draw(st.booleans())
    return Spiff(
        kind="spiff",
        id=f"spiff-{index}",
        product_line=draw(st.sampled_from(LINES)),
        min_amount=draw(st.none() | money),
        window_from=start,
        window_to=start + timedelta(days=draw(st.integers(min_value=1, max_value=40))),
        amount=draw(money) if fixed else None,
        rate=None if fixed else draw(rates),
    )


@st.composite
def plan_terms(draw: st.DrawFn) -> PlanTerms:
    components: list[Component] = []
    has_commission = draw(st.booleans())
    if has_commission:
        components.append(
            Commission(
                kind="commission",
                id="comm",
                method=draw(st.sampled_from(["marginal", "retroactive"])),
                tiers=draw(tier_lists()),
            )
        )
    for index in range(draw(st.integers(min_value=0, max_value=2))):
        components.append(draw(attainment_bonuses(index)))
    for index in range(draw(st.integers(min_value=0, max_value=2))):
        by_percent = has_commission and draw(st.booleans())
        components.append(
            ThresholdBonus(
                kind="threshold_bonus",
                id=f"threshold-{index}",
                threshold=draw(fractions),
                percent_of_commission=draw(rates) if by_percent else None,
                amount=None if by_percent else draw(money),
            )
        )
    for index in range(draw(st.integers(min_value=0 if components else 1, max_value=2))):
        components.append(draw(spiffs(index)))
    if draw(st.booleans()):
        components.append(
            TeamBonus(
                kind="team_bonus",
                id="team",
                pool=draw(st.decimals(min_value="0.01", max_value=50000, places=2)),
                threshold=draw(fractions),
                split=draw(st.sampled_from(["equal", "contribution"])),
            )
        )
    terms = PlanTerms(components=draw(st.permutations(components)))
    assert plan_problems(terms) == []
    return terms


@st.composite
def credit_lists(draw: st.DrawFn) -> list[Credit]:
    # One product line per deal, as the ledger has it.
    line_of = {deal: draw(st.sampled_from(LINES)) for deal in DEALS}
    rows = draw(st.lists(st.tuples(st.sampled_from(DEALS), DAYS, signed_money), max_size=8))
    return [
        Credit(f"e{index}", deal, day, amount, line_of[deal])
        for index, (deal, day, amount) in enumerate(rows)
    ]


quotas = st.none() | st.builds(
    Quota, st.just("g-q1"), st.decimals(min_value=-1000, max_value=300000, places=2)
)


@st.composite
def team_standings(draw: st.DrawFn) -> TeamStanding | None:
    if draw(st.booleans()):
        return None
    members = sorted(draw(st.sets(st.sampled_from(PERSONS), min_size=1)))
    return TeamStanding(
        "u-east",
        "g-team",
        draw(st.decimals(min_value=-100, max_value=1000000, places=2)),
        draw(st.decimals(min_value=0, max_value=1000000, places=2)),
        tuple(members),
        tuple(draw(st.lists(signed_money, min_size=len(members), max_size=len(members)))),
    )


adjustment_lists = st.lists(
    st.builds(Adjustment, st.sampled_from(["FY2025-Q4", "FY2026-Q1"]), money, money), max_size=3
)


@given(plan_terms(), quotas, credit_lists(), team_standings(), adjustment_lists)
def test_the_total_is_exactly_the_sum_of_cent_lines(
    terms: PlanTerms,
    quota: Quota | None,
    credits: list[Credit],
    team: TeamStanding | None,
    adjustments: list[Adjustment],
) -> None:
    priced = price(terms, credits, quota, team, tuple(adjustments))

    assert priced.total == sum(amounts(priced), D(0))
    assert all(line.amount == round_half_up(line.amount) for line in priced.lines)
    assert priced.revenue == sum((c.amount for c in credits), D(0))


@given(plan_terms(), quotas, credit_lists(), team_standings(), st.randoms(use_true_random=False))
def test_pricing_does_not_depend_on_the_order_of_credits(
    terms: PlanTerms,
    quota: Quota | None,
    credits: list[Credit],
    team: TeamStanding | None,
    random: Random,
) -> None:
    shuffled = list(credits)
    random.shuffle(shuffled)

    assert price(terms, shuffled, quota, team) == price(terms, credits, quota, team)


@st.composite
def reversed_pairs(draw: st.DrawFn, credits: list[Credit]) -> list[Credit]:
    """A credit and its reversal, on a new deal or on one of the credited deals
    no earlier than that deal's first credit (which dates the deal)."""
    known = {c.deal_id: c for c in sorted(credits, key=lambda c: c.credited_on, reverse=True)}
    deal = draw(st.sampled_from([*known, "d-new"]))
    first = known.get(deal)
    day = draw(DAYS if first is None else st.dates(first.credited_on, date(2026, 4, 30)))
    later = day + timedelta(days=draw(st.integers(min_value=0, max_value=30)))
    product_line = draw(st.sampled_from(LINES)) if first is None else first.product_line
    amount = draw(signed_money)
    return [
        Credit("pair-a", deal, day, amount, product_line),
        Credit("pair-b", deal, later, -amount, product_line),
    ]


@given(st.data(), plan_terms(), quotas, credit_lists(), team_standings())
def test_a_credit_and_its_reversal_change_nothing(
    data: st.DataObject,
    terms: PlanTerms,
    quota: Quota | None,
    credits: list[Credit],
    team: TeamStanding | None,
) -> None:
    pair = data.draw(reversed_pairs(credits))

    priced = price(terms, [*credits, *pair], quota, team)

    assert priced == price(terms, credits, quota, team)


@given(st.data(), plan_terms(), quotas, credit_lists(), credit_lists())
def test_a_deal_reversed_after_its_period_closed_nets_to_zero_across_periods(
    data: st.DataObject,
    terms: PlanTerms,
    quota: Quota | None,
    closed_credits: list[Credit],
    open_credits: list[Credit],
) -> None:
    """What the service does (service_layer/repricing.py): the closed period was paid with
    the deal; restated without it; the difference is carried into the next open
    period. Over both periods that is exactly as if the deal had never been."""
    deal, _ = data.draw(reversed_pairs(closed_credits))

    paid = price(terms, [*closed_credits, deal], quota).total
    restated = price(terms, closed_credits, quota).total
    carried = Adjustment(source_period="FY2026-Q1", restated=restated, paid=paid)
    next_period = price(terms, open_credits, quota, adjustments=(carried,)).total

    without_the_deal = restated + price(terms, open_credits, quota).total
    assert paid + next_period == without_the_deal


@given(
    tier_lists(),
    st.decimals(min_value="0.01", max_value=300000, places=2),
    signed_money,
    signed_money,
)
def test_marginal_commission_never_falls_as_revenue_rises(
    tiers: list[Tier], target: Decimal, one: Decimal, other: Decimal
) -> None:
    component = Commission(kind="commission", id="comm", method="marginal", tiers=tiers)
    quota = Quota("g", target)
    low, high = sorted([one, other])

    def commission_at(revenue: Decimal) -> Decimal:
        return sum((line.amount for line in commission_lines(component, revenue, quota)), D(0))

    assert commission_at(low) <= commission_at(high)


@given(
    st.decimals(min_value="0.01", max_value=1000000, places=2),
    st.sampled_from(["equal", "contribution"]),
    st.lists(signed_money, min_size=1, max_size=7),
)
def test_team_shares_always_add_up_to_the_pool(
    pool: Decimal, split: str, contributions: list[Decimal]
) -> None:
    members = [f"p{index}" for index in range(len(contributions))]

    shares = team_shares(pool, split, members, contributions)

    assert sum(shares.values()) == pool
    assert all(share >= 0 and share == round_half_up(share) for share in shares.values())


@given(attainment_bonuses(0), fractions, fractions)
def test_a_valid_curve_never_pays_less_for_more(
    component: AttainmentBonus, one: Decimal, other: Decimal
) -> None:
    low, high = sorted([one, other])

    assert curve_payout(component.curve, low) <= curve_payout(component.curve, high)
