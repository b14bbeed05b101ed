"""FX rates: each is base-currency units per unit of a currency on a day. A rate
that arrives credits the records parked waiting for it."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from servicekit.errors import FieldError
from tracking_service.service_layer.ingest import credit_parked
from tracking_service.service_layer.unit import Unit
from tracking_service.store import TrackingStore


async def put_rates(uow: Unit, rates: Sequence[tuple[str, date, Decimal]], base: str) -> int:
    """Store the rates and credit what waited for them; how many records were credited."""
    for index, (currency, _, _) in enumerate(rates):
        if currency == base:
            raise FieldError(
                f"rates[{index}].currency", f"{base} is the base currency; it needs no rate"
            )
    await uow.store.rates.upsert(rates, uow.clock.now())
    credited = await credit_parked(uow, [(currency, on) for currency, on, _ in rates], base)
    return credited


async def rates_between(
    store: TrackingStore, currency: str, start: date, end: date
) -> list[tuple[str, date, Decimal]]:
    return await store.rates.between(currency, start, end)
