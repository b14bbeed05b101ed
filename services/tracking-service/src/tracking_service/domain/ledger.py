"""The deal state machine of DOMAIN.md §4 as one rule: the ledger holds, per
metric, person and credit date, what the deal's current state credits, so the
delta for any change is `credits(new) - credits(old)`. Won, amount edits, owner
changes and won → lost or cancelled all follow from it, in any order."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

Stage = Literal["open", "won", "lost", "cancelled"]


@dataclass(frozen=True)
class DealState:
    stage: Stage
    amount: Decimal
    owner_id: str
    closed_on: date | None
    product_line: str | None = None


@dataclass(frozen=True, order=True)
class CreditKey:
    metric: str
    person_id: str
    credited_on: date
    product_line: str | None


@dataclass(frozen=True)
class LedgerDelta:
    key: CreditKey
    amount: Decimal
    reason: str


def credits(state: DealState | None) -> dict[CreditKey, Decimal]:
    """What a deal in this state contributes to the ledger."""
    if state is None or state.stage != "won" or state.closed_on is None:
        return {}
    return {
        CreditKey("revenue", state.owner_id, state.closed_on, state.product_line): state.amount,
        CreditKey("deals_won", state.owner_id, state.closed_on, state.product_line): Decimal(1),
    }


def ledger_delta(old: DealState | None, new: DealState) -> list[LedgerDelta]:
    before, after = credits(old), credits(new)
    reason = _reason(old, new)
    deltas = [
        LedgerDelta(key, after.get(key, Decimal(0)) - before.get(key, Decimal(0)), reason)
        for key in sorted(before.keys() | after.keys())
    ]
    return [delta for delta in deltas if delta.amount != 0]


def _reason(old: DealState | None, new: DealState) -> str:
    was_won = old is not None and old.stage == "won"
    if new.stage == "won" and not was_won:
        return "won"
    if was_won and new.stage != "won":
        return "reversed"
    if old is None:
        return "opened"
    if old.owner_id != new.owner_id:
        return "owner_changed"
    if old.amount != new.amount:
        return "amount_changed"
    return "restated"
