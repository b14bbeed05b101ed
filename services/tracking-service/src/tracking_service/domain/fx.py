"""Foreign currency converts at the rate of the credit date (DOMAIN.md §4); a
missing rate parks the record instead of guessing."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from servicekit.money import round_half_up


@dataclass(frozen=True)
class MissingRate(Exception):
    currency: str
    on: date
    base: str

    def __str__(self) -> str:
        return f"no {self.currency}→{self.base} rate for {self.on.isoformat()}"


def to_base(
    amount: Decimal, currency: str, on: date, base: str, rates: dict[tuple[str, date], Decimal]
) -> Decimal:
    """`amount` in the base currency, to the cent; `rates` maps (currency, day) to
    how many base units one unit of the currency is worth that day."""
    if currency == base:
        return amount
    rate = rates.get((currency, on))
    if rate is None:
        raise MissingRate(currency, on, base)
    return round_half_up(amount * rate)
