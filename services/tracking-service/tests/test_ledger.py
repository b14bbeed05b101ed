"""The deal state machine of DOMAIN.md §4, row by row, and the property that
holds it together: whatever order and duplicates deliveries come in, the
ledger adds up to what the deals' final states credit."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracking_service.domain.ledger import CreditKey, DealState, credits, ledger_delta

pytestmark = pytest.mark.unit

MARCH_3 = date(2026, 3, 3)


def won(amount: str = "1000", owner: str = "ann", on: date = MARCH_3) -> DealState:
    return DealState("won", Decimal(amount), owner, on)


def revenue(deltas, owner: str = "ann") -> Decimal:  # type: ignore[no-untyped-def]
    return sum(
        (d.amount for d in deltas if d.key.metric == "revenue" and d.key.person_id == owner),
        Decimal(0),
    )


def test_won_credits_the_amount_and_one_deal_on_the_close_date() -> None:
    deltas = ledger_delta(None, won())
    assert {(d.key.metric, d.amount, d.reason) for d in deltas} == {
        ("revenue", Decimal(1000), "won"),
        ("deals_won", Decimal(1), "won"),
    }
    assert all(d.key.credited_on == MARCH_3 for d in deltas)


def test_open_deal_credits_nothing_until_won() -> None:
    assert ledger_delta(None, DealState("open", Decimal(500), "ann", None)) == []
    opened = DealState("open", Decimal(500), "ann", None)
    assert revenue(ledger_delta(opened, won("500"))) == Decimal(500)


def test_amount_edit_while_won_records_the_difference() -> None:
    deltas = ledger_delta(won("1000"), won("1250.50"))
    assert [(d.key.metric, d.amount, d.reason) for d in deltas] == [
        ("revenue", Decimal("250.50"), "amount_changed")
    ]


def test_owner_change_while_won_moves_the_credit() -> None:
    deltas = ledger_delta(won(owner="ann"), won(owner="bob"))
    assert revenue(deltas, "ann") == Decimal(-1000)
    assert revenue(deltas, "bob") == Decimal(1000)
    assert {d.reason for d in deltas} == {"owner_changed"}


@pytest.mark.parametrize("stage", ["lost", "cancelled"])
def test_won_then_lost_or_cancelled_reverses_everything(stage: str) -> None:
    deltas = ledger_delta(won(), DealState(stage, Decimal(1000), "ann", MARCH_3))  # type: ignore[arg-type]
    assert sum(d.amount for d in deltas if d.key.metric == "revenue") == Decimal(-1000)
    assert sum(d.amount for d in deltas if d.key.metric == "deals_won") == Decimal(-1)
    assert {d.reason for d in deltas} == {"reversed"}


def test_close_date_change_moves_the_credit_between_days() -> None:
    deltas = ledger_delta(won(on=MARCH_3), won(on=date(2026, 4, 1)))
    by_day = {(d.key.credited_on, d.key.metric): d.amount for d in deltas}
    assert by_day[(MARCH_3, "revenue")] == Decimal(-1000)
    assert by_day[(date(2026, 4, 1), "revenue")] == Decimal(1000)


def test_restating_the_same_state_records_nothing() -> None:
    assert ledger_delta(won(), won()) == []


states = st.builds(
    DealState,
    stage=st.sampled_from(["open", "won", "lost", "cancelled"]),
    amount=st.decimals(min_value=0, max_value=10**7, places=2),
    owner_id=st.sampled_from(["ann", "bob", "cy"]),
    closed_on=st.sampled_from([date(2026, 1, 31), date(2026, 2, 1)]),
)


@given(
    history=st.lists(
        st.tuples(st.sampled_from(["d1", "d2", "d3"]), states), min_size=1, max_size=25
    ),
    order=st.randoms(use_true_random=False),
    duplicates=st.lists(st.integers(min_value=0, max_value=24), max_size=10),
)
def test_any_delivery_order_with_duplicates_nets_to_the_final_states(
    history, order, duplicates
) -> None:  # type: ignore[no-untyped-def]
    """Each delivery carries a version; the ledger applies a delivery only when it
    is newer than what is stored, as the webhook does."""
    versioned = [(deal, version, state) for version, (deal, state) in enumerate(history, start=1)]
    deliveries = versioned + [versioned[i % len(versioned)] for i in duplicates]
    order.shuffle(deliveries)

    stored: dict[str, tuple[int, DealState]] = {}
    ledger: dict[CreditKey, Decimal] = defaultdict(Decimal)
    for deal, version, state in deliveries:
        if deal in stored and version <= stored[deal][0]:
            continue  # stale or duplicate
        for delta in ledger_delta(stored.get(deal, (0, None))[1], state):
            ledger[delta.key] += delta.amount
        stored[deal] = (version, state)

    expected: dict[CreditKey, Decimal] = defaultdict(Decimal)
    final = {deal: state for deal, _, state in sorted(versioned, key=lambda d: d[1])}
    for state in final.values():
        for key, amount in credits(state).items():
            expected[key] += amount
    assert {k: v for k, v in ledger.items() if v} == {k: v for k, v in expected.items() if v}
