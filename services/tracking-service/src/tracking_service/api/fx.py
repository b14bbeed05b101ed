"""FX rates by API: each rate is base-currency units per unit of a currency on a
day. A rate that arrives credits the records parked waiting for it."""

from datetime import date
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from servicekit.app import RuntimeDep, UnitOfWorkDep
from servicekit.auth import Role, require_roles
from servicekit.inputs import Day, InputModel
from servicekit.paging import Page, PagingDep, page_of
from servicekit.problems import InvalidInput
from tracking_service.ingest import credit_parked
from tracking_service.store import fx

router = APIRouter(tags=["fx"])
writers = require_roles(Role.ADMIN, Role.INTEGRATION)
readers = require_roles(Role.ADMIN, Role.INTEGRATION, Role.PLANNER, Role.VIEWER)


class RateIn(InputModel):
    currency: str = Field(pattern="^[A-Z]{3}$")
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


@router.put("/fx-rates", dependencies=[writers], response_model=RatesStored)
async def put_rates(body: RatesIn, uow: UnitOfWorkDep, runtime: RuntimeDep) -> RatesStored:
    base = runtime.settings.base_currency
    for index, rate in enumerate(body.rates):
        if rate.currency == base:
            raise InvalidInput(
                f"{base} is the base currency; it needs no rate", field=f"rates[{index}].currency"
            )
    await fx.upsert(uow.session, [(r.currency, r.on, r.rate) for r in body.rates], uow.clock.now())
    credited = await credit_parked(uow, [(r.currency, r.on) for r in body.rates], base)
    await uow.commit()
    return RatesStored(stored=len(body.rates), credited=credited)


class RateList(Page[RatePublic]):
    """By day; `after` is a day (ISO 8601) of the previous page."""


@router.get("/fx-rates", dependencies=[readers], response_model=RateList)
async def get_rates(
    uow: UnitOfWorkDep, paging: PagingDep, currency: str, start: Day, end: Day
) -> RateList:
    rates = [
        RatePublic(currency=c, on=on, rate=rate)
        for c, on, rate in await fx.between(uow.session, currency, start, end)
    ]
    page = page_of(rates, paging, key=lambda r: r.on.isoformat())
    return RateList(data=page.data, count=page.count, next_after=page.next_after)
