"""FX rates by API: each rate is base-currency units per unit of a currency on a
day. A rate that arrives credits the records parked waiting for it."""

from datetime import date
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from servicekit import roles
from servicekit.inputs import Day, InputModel
from servicekit.paging import Page, PagingDep, page_of
from tracking_service.api.dependencies import Runtime, Uow
from tracking_service.domain.fx import CurrencyCode
from tracking_service.service_layer import fx

router = APIRouter(tags=["fx"])


class RateIn(InputModel):
    currency: CurrencyCode
    on: date
    rate: Decimal = Field(gt=0, max_digits=20, decimal_places=10)


class RatesIn(InputModel):
    rates: list[RateIn] = Field(min_length=1, max_length=5000)


class RatesStored(BaseModel):
    stored: int
    credited: int = Field(description="parked records credited now that their rate is known")


class RatePublic(BaseModel):
    currency: str
    on: date
    rate: Decimal


@router.put("/fx-rates", dependencies=[roles.integrations], response_model=RatesStored)
async def put_rates(body: RatesIn, uow: Uow, runtime: Runtime) -> RatesStored:
    rates = [(r.currency, r.on, r.rate) for r in body.rates]
    credited = await fx.put_rates(uow, rates, runtime.settings.base_currency)
    await uow.commit()
    return RatesStored(stored=len(body.rates), credited=credited)


class RateList(Page[RatePublic]):
    """By day; `after` is a day (ISO 8601) of the previous page."""


@router.get("/fx-rates", dependencies=[roles.reference_readers], response_model=RateList)
async def get_rates(uow: Uow, paging: PagingDep, currency: str, start: Day, end: Day) -> RateList:
    rates = [
        RatePublic(currency=c, on=on, rate=rate)
        for c, on, rate in await fx.rates_between(uow.store, currency, start, end)
    ]
    page = page_of(rates, paging, key=lambda r: r.on.isoformat())
    return RateList(data=page.data, count=page.count, next_after=page.next_after)
