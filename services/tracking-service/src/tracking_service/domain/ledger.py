"""The CRM record state machines of DOMAIN.md §4 as one rule: the ledger holds,
per metric, person, credit date, product line and org path, what each record's
current state credits, so the rows to append for any change are
`wanted - held`. Won, amount edits, owner changes, split changes, won → lost or
cancelled, late org paths: all follow from it, in any order of delivery.

Amounts here are already in the base currency (see `fx.py`)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from servicekit.money import largest_remainder

RecordKind = Literal["deal", "payment", "lead", "activity"]
DealStage = Literal["open", "won", "lost", "cancelled"]
ONE = Decimal(1)


@dataclass(frozen=True)
class Split:
    owner_id: str
    percent: Decimal


@dataclass(frozen=True)
class DealState:
    """`owners` lists the credited owners, the primary (who gets the deal counts) first."""

    stage: DealStage
    amount: Decimal
    owners: tuple[Split, ...]
    closed_on: date | None
    created_on: date | None = None
    product_line: str | None = None

    @property
    def owner_id(self) -> str:
        return self.owners[0].owner_id


@dataclass(frozen=True)
class PaymentState:
    status: Literal["received", "reversed"]
    amount: Decimal
    owner_id: str
    received_on: date
    product_line: str | None = None


@dataclass(frozen=True)
class LeadState:
    status: Literal["open", "converted", "disqualified", "deleted"]
    owner_id: str
    created_on: date


@dataclass(frozen=True)
class ActivityState:
    status: Literal["done", "planned", "deleted"]
    owner_id: str
    occurred_on: date


RecordState = DealState | PaymentState | LeadState | ActivityState


@dataclass(frozen=True, order=True)
class CreditKey:
    metric: str
    person_id: str
    credited_on: date
    product_line: str | None = None


@dataclass(frozen=True, order=True)
class LedgerKey:
    """Where a ledger row counts: a credit and the org path in force on its date."""

    credit: CreditKey
    org_path: tuple[str, ...] = field(default=())


def credits(state: RecordState | None) -> dict[CreditKey, Decimal]:
    """What a record in this state contributes to the ledger."""
    match state:
        case DealState():
            return _deal_credits(state)
        case PaymentState(status="received"):
            return {
                CreditKey("collections", state.owner_id, state.received_on, state.product_line): (
                    state.amount
                )
            }
        case LeadState() if state.status != "deleted":
            return {CreditKey("leads_created", state.owner_id, state.created_on): ONE}
        case ActivityState(status="done"):
            return {CreditKey("activities", state.owner_id, state.occurred_on): ONE}
    return {}


def _deal_credits(deal: DealState) -> dict[CreditKey, Decimal]:
    """A deal is an opportunity from the day it is created; won, it credits its amount
    split between its owners, and one deal and its sales cycle to the primary owner;
    lost, one lost deal (the win rate's denominator). Cancelled credits no outcome."""
    result: dict[CreditKey, Decimal] = {}
    primary, line = deal.owner_id, deal.product_line
    if deal.created_on is not None:
        result[CreditKey("opportunities_created", primary, deal.created_on, line)] = ONE
    if deal.closed_on is None:
        return result
    if deal.stage == "won":
        shares = split_amount(deal.amount, deal.owners)
        for split, share in zip(deal.owners, shares, strict=True):
            key = CreditKey("revenue", split.owner_id, deal.closed_on, line)
            result[key] = result.get(key, Decimal(0)) + share
        result[CreditKey("deals_won", primary, deal.closed_on, line)] = ONE
        if deal.created_on is not None:
            # A deal closed before it was created is a backdated CRM entry: its
            # cycle counts as 0 days (it stays in the average's denominator,
            # deals_won, like a deal without a created date).
            cycle = Decimal(max(0, (deal.closed_on - deal.created_on).days))
            result[CreditKey("sales_cycle_days", primary, deal.closed_on, line)] = cycle
    elif deal.stage == "lost":
        result[CreditKey("deals_lost", primary, deal.closed_on, line)] = ONE
    return {key: amount for key, amount in result.items() if amount != 0}


NEW_CUSTOMERS = "new_customers"


@dataclass(frozen=True)
class CustomerDeal:
    """A deal as `new_customers` reads it: whose customer, and whether and when it was won.
    `record` is (source, kind, id): a customer id is its source's."""

    record: tuple[str, str, str]
    customer_id: str | None
    stage: str
    closed_on: date | None
    owner_id: str
    product_line: str | None = None


def new_customer_credits(
    deals: Iterable[CustomerDeal],
) -> dict[tuple[str, str, str], dict[CreditKey, Decimal]]:
    """`new_customers` (DOMAIN.md §2): a customer counts once, in the period its first
    won deal closed, for that deal's primary owner (and product line). The first is the
    earliest close date, the lower record id on a tie. A deal without a customer counts
    for none; when the first is lost or cancelled, or an earlier win arrives, the credit
    moves. Returns the credit of each deal that has one: every other deal of these
    customers wants none."""
    first: dict[tuple[str, str], tuple[date, tuple[str, str, str], CustomerDeal]] = {}
    for deal in deals:
        if deal.customer_id is None or deal.stage != "won" or deal.closed_on is None:
            continue
        customer = (deal.record[0], deal.customer_id)
        held = first.get(customer)
        if held is None or (deal.closed_on, deal.record) < held[:2]:
            first[customer] = (deal.closed_on, deal.record, deal)
    return {
        deal.record: {CreditKey(NEW_CUSTOMERS, deal.owner_id, on, deal.product_line): ONE}
        for on, _, deal in first.values()
    }


def split_amount(amount: Decimal, owners: tuple[Split, ...]) -> list[Decimal]:
    """Each owner's share to the cent, the shares adding up to the amount exactly."""
    return largest_remainder(amount, [owner.percent for owner in owners])


def rows_to_append(
    held: Mapping[LedgerKey, Decimal], wanted: Mapping[LedgerKey, Decimal]
) -> list[tuple[LedgerKey, Decimal]]:
    """The signed deltas that turn what the ledger holds for a record into what it wants."""
    keys = sorted(held.keys() | wanted.keys())
    deltas = [(key, wanted.get(key, Decimal(0)) - held.get(key, Decimal(0))) for key in keys]
    return [(key, amount) for key, amount in deltas if amount != 0]


def change_reason(old: RecordState | None, new: RecordState | None) -> str:
    """Why a record's ledger rows changed, in a sales-ops reader's words."""
    if isinstance(new, DealState) and new.stage == "won" and not _is_won(old):
        return "won"
    if _is_won(old) and isinstance(new, DealState) and new.stage != "won":
        return "reversed" if new.stage == "cancelled" else new.stage
    # Only now: computing the credits costs more than the comparisons above.
    was, now = bool(credits(old)), bool(credits(new))
    if old is None or not was:
        return "recorded"
    if not now:
        return "reversed"
    if _owners(old) != _owners(new):
        return "owner_changed"
    if getattr(old, "amount", None) != getattr(new, "amount", None):
        return "amount_changed"
    return "restated"


def _is_won(state: RecordState | None) -> bool:
    return isinstance(state, DealState) and state.stage == "won"


def _owners(state: RecordState | None) -> object:
    if isinstance(state, DealState):
        return state.owners
    return getattr(state, "owner_id", None)
