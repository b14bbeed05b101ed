"""The record state machines of DOMAIN.md §4, row by row, and the property that
holds them together: whatever order and duplicates deliveries come in, the
ledger adds up to what the records' final states credit."""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracking_service.domain.directory import Directory, Stint
from tracking_service.domain.fx import MissingRate, to_base
from tracking_service.domain.ledger import (
    ONE,
    ActivityState,
    CreditKey,
    CustomerDeal,
    DealState,
    LeadState,
    LedgerKey,
    PaymentState,
    RecordState,
    Split,
    change_reason,
    credits,
    new_customer_credits,
    rows_to_append,
    split_amount,
)

pytestmark = pytest.mark.unit

MARCH_3 = date(2026, 3, 3)
FEB_1 = date(2026, 2, 1)


def owners(*names: str) -> tuple[Split, ...]:
    return tuple(Split(name, Decimal(100) / len(names)) for name in names)


def deal(
    stage: str = "won", amount: str = "1000", owner: str = "ann", on: date = MARCH_3
) -> DealState:
    return DealState(stage, Decimal(amount), owners(owner), on, FEB_1)  # type: ignore[arg-type]


def change(old: RecordState | None, new: RecordState) -> list[tuple[LedgerKey, Decimal]]:
    """The rows a change appends, from an empty org path."""

    def held(state: RecordState | None) -> dict[LedgerKey, Decimal]:
        return {LedgerKey(key): amount for key, amount in credits(state).items()}

    return rows_to_append(held(old), held(new))


def total(rows: list[tuple[LedgerKey, Decimal]], metric: str, person: str = "ann") -> Decimal:
    return sum(
        (a for k, a in rows if k.credit.metric == metric and k.credit.person_id == person),
        Decimal(0),
    )


def test_won_credits_amount_deal_cycle_and_opportunity() -> None:
    rows = change(None, deal())
    assert {(k.credit.metric, k.credit.credited_on, a) for k, a in rows} == {
        ("opportunities_created", FEB_1, Decimal(1)),
        ("revenue", MARCH_3, Decimal(1000)),
        ("deals_won", MARCH_3, Decimal(1)),
        ("sales_cycle_days", MARCH_3, Decimal(30)),
    }
    assert change_reason(None, deal()) == "won"


def test_open_deal_counts_only_as_an_opportunity_until_won() -> None:
    opened = deal("open", on=None)  # type: ignore[arg-type]
    assert [k.credit.metric for k, _ in change(None, opened)] == ["opportunities_created"]
    assert total(change(opened, deal()), "revenue") == Decimal(1000)
    assert change_reason(opened, deal()) == "won"


def test_lost_deal_counts_for_the_win_rate_only() -> None:
    rows = change(deal("open", on=None), deal("lost"))  # type: ignore[arg-type]
    assert [(k.credit.metric, a) for k, a in rows] == [("deals_lost", Decimal(1))]


def test_amount_edit_while_won_records_the_difference() -> None:
    rows = change(deal(amount="1000"), deal(amount="1250.50"))
    assert [(k.credit.metric, a) for k, a in rows] == [("revenue", Decimal("250.50"))]
    assert change_reason(deal(amount="1000"), deal(amount="1250.50")) == "amount_changed"


def test_owner_change_while_won_moves_every_credit() -> None:
    rows = change(deal(owner="ann"), deal(owner="bob"))
    for metric, amount in [("revenue", 1000), ("deals_won", 1), ("opportunities_created", 1)]:
        assert total(rows, metric, "ann") == -amount
        assert total(rows, metric, "bob") == amount
    assert change_reason(deal(owner="ann"), deal(owner="bob")) == "owner_changed"


@pytest.mark.parametrize(("stage", "reason"), [("lost", "lost"), ("cancelled", "reversed")])
def test_won_then_lost_or_cancelled_reverses_the_win(stage: str, reason: str) -> None:
    rows = change(deal(), deal(stage))
    assert total(rows, "revenue") == Decimal(-1000)
    assert total(rows, "deals_won") == Decimal(-1)
    assert total(rows, "sales_cycle_days") == Decimal(-30)
    assert total(rows, "deals_lost") == Decimal(1 if stage == "lost" else 0)
    assert total(rows, "opportunities_created") == 0, "it was an opportunity all the same"
    assert change_reason(deal(), deal(stage)) == reason


def test_close_date_change_moves_the_credit_between_days() -> None:
    rows = change(deal(on=MARCH_3), deal(on=date(2026, 4, 1)))
    by_day = {(k.credit.credited_on, k.credit.metric): a for k, a in rows}
    assert by_day[(MARCH_3, "revenue")] == Decimal(-1000)
    assert by_day[(date(2026, 4, 1), "revenue")] == Decimal(1000)


def test_a_deal_closed_before_it_was_created_counts_a_zero_day_cycle() -> None:
    # A backdated CRM entry: the cycle is not negative, and the deal still counts
    # in the average's denominator (deals_won), as a 0-day cycle.
    backdated = DealState("won", Decimal(1000), owners("ann"), FEB_1, MARCH_3)
    rows = change(None, backdated)
    assert total(rows, "revenue") == Decimal(1000)
    assert total(rows, "deals_won") == Decimal(1)
    assert total(rows, "sales_cycle_days") == 0
    assert total(change(deal(), backdated), "sales_cycle_days") == Decimal(-30)


@given(
    created=st.dates(date(2025, 1, 1), date(2027, 1, 1)),
    closed=st.dates(date(2025, 1, 1), date(2027, 1, 1)),
)
def test_a_won_deal_s_cycle_is_never_negative(created: date, closed: date) -> None:
    cycle = credits(DealState("won", Decimal(1), owners("ann"), closed, created)).get(
        CreditKey("sales_cycle_days", "ann", closed), Decimal(0)
    )
    assert cycle == max(0, (closed - created).days)


def customer_deal(record: str, customer: str | None, stage: str, on: date | None) -> CustomerDeal:
    return CustomerDeal(("crm", "deal", record), customer, stage, on, f"owner-{record}", None)


def test_a_customer_s_first_won_deal_credits_one_new_customer_to_its_owner() -> None:
    deals = [
        customer_deal("late", "acme", "won", date(2026, 3, 20)),
        customer_deal("first", "acme", "won", MARCH_3),
        customer_deal("open", "acme", "open", None),
        customer_deal("earlier-lost", "acme", "lost", FEB_1),
        customer_deal("alone", None, "won", FEB_1),
        customer_deal("other", "zenith", "won", date(2026, 4, 1)),
    ]
    credited = new_customer_credits(deals)
    assert credited == {
        ("crm", "deal", "first"): {CreditKey("new_customers", "owner-first", MARCH_3): ONE},
        ("crm", "deal", "other"): {
            CreditKey("new_customers", "owner-other", date(2026, 4, 1)): ONE
        },
    }


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d", "e"]),
            st.sampled_from(["acme", "zenith", None]),
            st.sampled_from(["open", "won", "lost", "cancelled"]),
            st.dates(date(2026, 1, 1), date(2026, 1, 10)),
        ),
        unique_by=lambda deal: deal[0],
    )
)
def test_each_customer_with_a_win_counts_once_on_its_earliest_win(
    raw: list[tuple[str, str | None, str, date]],
) -> None:
    deals = [customer_deal(r, c, s, on) for r, c, s, on in raw]
    credited = new_customer_credits(deals)
    won = [d for d in deals if d.stage == "won" and d.customer_id is not None]
    assert len(credited) == len({d.customer_id for d in won})
    for record, rows in credited.items():
        (key,) = rows
        deal_of = next(d for d in deals if d.record == record)
        assert key.credited_on == min(
            d.closed_on for d in won if d.customer_id == deal_of.customer_id
        )  # type: ignore[type-var]
        assert rows[key] == ONE


def test_restating_the_same_state_appends_nothing() -> None:
    assert change(deal(), deal()) == []


def test_split_credit_adds_up_to_the_amount_and_counts_the_deal_once() -> None:
    split = DealState("won", Decimal("100.00"), owners("ann", "bob", "cy"), MARCH_3, FEB_1)
    rows = change(None, split)
    shares = [total(rows, "revenue", name) for name in ("ann", "bob", "cy")]
    assert sum(shares) == Decimal("100.00")
    assert sorted(shares) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert [total(rows, "deals_won", n) for n in ("ann", "bob", "cy")] == [1, 0, 0]


def test_changing_the_split_moves_only_the_difference() -> None:
    before = DealState(
        "won", Decimal(1000), (Split("ann", Decimal(50)), Split("bob", Decimal(50))), MARCH_3
    )
    after = DealState(
        "won", Decimal(1000), (Split("ann", Decimal(70)), Split("bob", Decimal(30))), MARCH_3
    )
    rows = change(before, after)
    assert total(rows, "revenue", "ann") == Decimal(200)
    assert total(rows, "revenue", "bob") == Decimal(-200)


@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=2),
    percents=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=6),
)
def test_split_shares_always_add_up_to_the_amount(amount: Decimal, percents: list[int]) -> None:
    splits = tuple(Split(f"p{i}", Decimal(p)) for i, p in enumerate(percents))
    shares = split_amount(amount, splits)
    assert sum(shares) == amount
    assert all(share >= 0 and share == share.quantize(Decimal("0.01")) for share in shares)


def test_payments_leads_and_activities_credit_their_metrics_and_reverse() -> None:
    paid = PaymentState("received", Decimal(500), "ann", MARCH_3)
    assert credits(paid) == {CreditKey("collections", "ann", MARCH_3): Decimal(500)}
    assert change(paid, PaymentState("reversed", Decimal(500), "ann", MARCH_3)) == [
        (LedgerKey(CreditKey("collections", "ann", MARCH_3)), Decimal(-500))
    ]
    assert credits(LeadState("open", "ann", MARCH_3)) == {
        CreditKey("leads_created", "ann", MARCH_3): Decimal(1)
    }
    assert credits(LeadState("deleted", "ann", MARCH_3)) == {}
    assert credits(ActivityState("done", "ann", MARCH_3)) == {
        CreditKey("activities", "ann", MARCH_3): Decimal(1)
    }
    assert credits(ActivityState("planned", "ann", MARCH_3)) == {}


def test_a_new_org_path_moves_the_credit_to_it() -> None:
    key = CreditKey("revenue", "ann", MARCH_3)
    rows = rows_to_append(
        {LedgerKey(key, ()): Decimal(10)}, {LedgerKey(key, ("co", "t1")): Decimal(10)}
    )
    assert rows == [(LedgerKey(key, ()), Decimal(-10)), (LedgerKey(key, ("co", "t1")), Decimal(10))]


def test_org_path_is_the_one_in_force_on_the_credit_date() -> None:
    directory = Directory(
        stints={
            "ann": [
                Stint("east", date(2025, 1, 1), date(2026, 3, 1)),
                Stint("west", date(2026, 3, 1), None),
            ]
        },
        paths={"east": ("co", "east"), "west": ("co", "west")},
    )
    assert directory.org_path_on("ann", date(2026, 2, 28)) == ("co", "east")
    assert directory.org_path_on("ann", date(2026, 3, 1)) == ("co", "west")
    assert directory.org_path_on("ann", date(2024, 12, 31)) == ()
    assert directory.org_path_on("bob", MARCH_3) == ()


def test_foreign_currency_converts_at_the_credit_dates_rate_half_up() -> None:
    rates = {("USD", MARCH_3): Decimal("7.12345")}
    assert to_base(Decimal("100.00"), "USD", MARCH_3, "CNY", rates) == Decimal("712.35")
    assert to_base(Decimal("100.00"), "CNY", MARCH_3, "CNY", {}) == Decimal("100.00")
    with pytest.raises(MissingRate, match="no USD→CNY rate for 2026-03-04"):
        to_base(Decimal(1), "USD", date(2026, 3, 4), "CNY", rates)


deal_states = st.builds(
    DealState,
    stage=st.sampled_from(["open", "won", "lost", "cancelled"]),
    amount=st.decimals(min_value=0, max_value=10**7, places=2),
    owners=st.sampled_from(
        [owners("ann"), owners("bob"), owners("ann", "bob"), owners("cy", "ann")]
    ),
    closed_on=st.sampled_from([date(2026, 1, 31), date(2026, 2, 1)]),
    created_on=st.sampled_from([None, date(2026, 1, 2)]),
)


@given(
    history=st.lists(
        st.tuples(st.sampled_from(["d1", "d2", "d3"]), deal_states), min_size=1, max_size=25
    ),
    seed=st.integers(),
    duplicates=st.lists(st.integers(min_value=0, max_value=24), max_size=10),
)
def test_any_delivery_order_with_duplicates_nets_to_the_final_states(
    history: list[tuple[str, DealState]], seed: int, duplicates: list[int]
) -> None:
    """Each delivery carries a version and is applied only when newer than the stored
    one, as ingestion does; the rows appended are `wanted - held` each time."""
    versioned = [(name, version, state) for version, (name, state) in enumerate(history, start=1)]
    deliveries = versioned + [versioned[i % len(versioned)] for i in duplicates]
    Random(seed).shuffle(deliveries)

    stored: dict[str, int] = {}
    ledger: dict[str, dict[LedgerKey, Decimal]] = defaultdict(dict)
    for name, version, state in deliveries:
        if version <= stored.get(name, 0):
            continue
        wanted = {LedgerKey(k): a for k, a in credits(state).items()}
        for key, amount in rows_to_append(ledger[name], wanted):
            ledger[name][key] = ledger[name].get(key, Decimal(0)) + amount
        stored[name] = version

    final = {name: state for name, _, state in versioned}
    for person in ("ann", "bob", "cy"):
        for metric in ("revenue", "deals_won", "deals_lost", "opportunities_created"):
            booked = sum(
                (
                    a
                    for held in ledger.values()
                    for k, a in held.items()
                    if (k.credit.person_id, k.credit.metric) == (person, metric)
                ),
                Decimal(0),
            )
            expected = sum(
                (
                    a
                    for state in final.values()
                    for k, a in credits(state).items()
                    if (k.person_id, k.metric) == (person, metric)
                ),
                Decimal(0),
            )
            assert booked == expected
