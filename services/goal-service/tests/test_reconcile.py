"""Bottom-up proposals (DOMAIN.md §5.4) and their hybrid reconciliation with
the top-down shares (§5.5)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goal_service.domain.reconcile import (
    NO_PROPOSAL,
    Policy,
    Reconciled,
    ReconcileError,
    reconcile,
    summarise,
)

pytestmark = pytest.mark.unit

D = Decimal
TOP_DOWN = [D(500), D(300), D(200)]


def finals(lines: list[Reconciled]) -> list[Decimal]:
    return [line.final for line in lines]


def test_the_parent_sees_the_sum_the_gap_and_the_coverage() -> None:
    bottom_up = summarise(D(1000), [D(300), None, D(500)])
    assert (bottom_up.total, bottom_up.gap, bottom_up.missing) == (D(800), D(200), 1)
    assert bottom_up.coverage == D("0.8000")


def test_coverage_is_rounded_half_up_to_four_places() -> None:
    assert summarise(D(3), [D(1)]).coverage == D("0.3333")
    assert summarise(D(3), [D(2)]).coverage == D("0.6667")
    assert summarise(D(800), [D(1000)]).coverage == D("1.2500")
    assert summarise(D(800), [D(1000)]).gap == D(-200)


def test_scale_multiplies_every_proposal_by_the_same_factor() -> None:
    lines = reconcile(D(1000), TOP_DOWN, [D(400), D(300), D(100)], "scale")
    assert finals(lines) == [D(500), D(375), D(125)]
    assert [line.proposal for line in lines] == [D(400), D(300), D(100)]
    assert [line.top_down for line in lines] == TOP_DOWN


def test_a_child_without_a_proposal_counts_its_top_down_share() -> None:
    lines = reconcile(D(1100), TOP_DOWN, [D(500), None, D(200)], "scale")
    assert finals(lines) == [D(550), D(330), D(220)]
    assert lines[1].proposal is None
    assert lines[1].note == NO_PROPOSAL
    assert lines[0].note is None


def test_scale_falls_back_to_the_top_down_shares_when_every_proposal_is_zero() -> None:
    lines = reconcile(D(1000), TOP_DOWN, [D(0), D(0), D(0)], "scale")
    assert finals(lines) == TOP_DOWN
    assert all(line.note and "top-down" in line.note for line in lines)
    assert all(line.negotiate for line in lines)


def test_gap_by_weight_adds_the_gap_by_the_top_down_shares() -> None:
    lines = reconcile(D(1000), TOP_DOWN, [D(400), D(300), D(100)], "gap_by_weight")
    assert finals(lines) == [D(500), D(360), D(140)]


def test_gap_by_weight_takes_given_weights() -> None:
    lines = reconcile(
        D(1000), TOP_DOWN, [D(400), D(300), D(100)], "gap_by_weight", weights=[D(1), D(1), D(0)]
    )
    assert finals(lines) == [D(500), D(400), D(100)]


def test_a_negative_gap_takes_from_the_children_but_never_below_zero() -> None:
    lines = reconcile(
        D(100), [D(50), D(50)], [D(200), D(10)], "gap_by_weight", weights=[D(1), D(9)]
    )
    assert finals(lines) == [D(100), D(0)]


def test_max_takes_the_larger_per_child_and_may_exceed_the_target() -> None:
    lines = reconcile(D(1000), TOP_DOWN, [D(600), D(250), None], "max")
    assert finals(lines) == [D(600), D(300), D(200)]
    assert sum(finals(lines)) == D(1100)
    assert [line.negotiate for line in lines] == [False, False, False]


def test_a_final_exactly_at_the_threshold_above_the_proposal_is_not_flagged() -> None:
    at, above = reconcile(D(300), [D(120), D(121)], [D(100), D(100)], "max")
    assert (at.final, at.negotiate) == (D(120), False)
    assert (above.final, above.negotiate) == (D(121), True)


def test_the_target_is_rounded_half_up_to_the_unit_first() -> None:
    lines = reconcile(D("1000.5"), TOP_DOWN, [D(500), D(300), D(200)], "scale")
    assert sum(finals(lines)) == D(1001)
    lines = reconcile(D(12_345), TOP_DOWN, [D(500), D(300), D(200)], "scale", unit=D(1000))
    assert finals(lines) == [D(6000), D(4000), D(2000)]


def test_the_threshold_can_be_set() -> None:
    lines = reconcile(D(300), [D(120), D(111)], [D(100), D(100)], "max", threshold=D("0.1"))
    assert [line.negotiate for line in lines] == [True, True]


def test_scaling_flags_only_the_children_pushed_past_the_threshold() -> None:
    lines = reconcile(D(1201), [D(600), D(300), D(301)], [D(500), D(250), D(250)], "scale")
    assert finals(lines) == [D(601), D(300), D(300)]
    assert [line.negotiate for line in lines] == [True, False, False]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": D(0)}, "target"),
        ({"policy": "average"}, "policy"),
        ({"proposals": [D(1), D(2)]}, "proposals"),
        ({"proposals": [D(1), D(-2), D(3)]}, "proposals"),
        ({"top_down": []}, "top_down"),
        ({"weights": [D(1)]}, "weights"),
        ({"weights": [D(1), D(-1), D(1)]}, "weights"),
        ({"unit": D(0)}, "unit"),
        ({"threshold": D("-0.1")}, "threshold"),
    ],
)
def test_impossible_reconciliations_name_the_input_at_fault(
    kwargs: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {
        "target": D(1000),
        "top_down": TOP_DOWN,
        "proposals": [D(400), D(300), D(100)],
        "policy": "scale",
    } | kwargs
    with pytest.raises(ReconcileError) as error:
        reconcile(**arguments)  # type: ignore[arg-type]
    assert error.value.field == field


def test_summarise_needs_a_positive_target() -> None:
    with pytest.raises(ReconcileError) as error:
        summarise(D(0), [D(1)])
    assert error.value.field == "target"


children = st.integers(min_value=1, max_value=8).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 10**6).map(D), min_size=n, max_size=n).filter(any),
        st.lists(st.none() | st.decimals("0", "1000000", places=2), min_size=n, max_size=n),
        st.lists(st.integers(0, 100).map(D), min_size=n, max_size=n),
    )
)


@given(
    target=st.integers(min_value=1, max_value=10**7).map(D),
    split=children,
    policy=st.sampled_from(["scale", "gap_by_weight"]),
    use_weights=st.booleans(),
)
def test_scale_and_gap_by_weight_add_up_to_the_target_and_never_go_negative(
    target: Decimal,
    split: tuple[list[Decimal], list[Decimal | None], list[Decimal]],
    policy: Policy,
    use_weights: bool,
) -> None:
    top_down, proposals, weights = split
    lines = reconcile(target, top_down, proposals, policy, weights=weights if use_weights else None)
    assert sum(finals(lines)) == target
    assert all(line.final >= 0 and line.final % 1 == 0 for line in lines)
    for line in lines:
        asked = line.top_down if line.proposal is None else line.proposal
        assert line.negotiate == (line.final > asked * D("1.2"))


@given(
    split=children,
    gap=st.integers(min_value=1, max_value=10**6).map(D),
)
def test_a_positive_gap_never_lowers_a_proposal(
    split: tuple[list[Decimal], list[Decimal | None], list[Decimal]], gap: Decimal
) -> None:
    top_down, _, _ = split
    proposals = [top // 2 for top in top_down]
    lines = reconcile(sum(proposals) + gap, top_down, proposals, "gap_by_weight")
    assert all(line.final >= (line.proposal or 0) for line in lines)
