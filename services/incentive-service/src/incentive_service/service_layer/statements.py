"""A person's statements as they stand, line by line with the deals they are
made of, and what-if estimates against them (nothing is stored)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from attain_contracts.calendar import FiscalCalendar
from incentive_service.domain import pricing
from incentive_service.domain.plans import PlanTerms
from incentive_service.service_layer import Uow
from incentive_service.service_layer.plan_periods import priced_period
from incentive_service.service_layer.pricing import Pricing
from incentive_service.service_layer.repricing import estimate
from incentive_service.service_layer.visibility import require_person
from incentive_service.store.tables import Adjustment, Statement
from servicekit.auth import Principal
from servicekit.errors import FieldError, Missing


async def statements_of(uow: Uow, principal: Principal, person_id: str) -> list[Statement]:
    await require_person(uow.store, principal, person_id)
    return await uow.store.statements.of_person(person_id)


@dataclass(frozen=True)
class DealTotal:
    """The ledger rows of one deal in a statement, netted."""

    deal_id: str
    credited_on: date
    product_line: str | None
    amount: Decimal
    entries: int


@dataclass(frozen=True)
class StatementDetail:
    statement: Statement
    deals: list[DealTotal]
    carried_out: list[Adjustment]


async def statement_detail(
    uow: Uow, principal: Principal, person_id: str, period_key: str
) -> StatementDetail:
    store = uow.store
    await require_person(store, principal, person_id)
    statement = await store.statements.get(person_id, period_key)
    if statement is None:
        raise Missing(f"no statement for {person_id} in {period_key}")
    metric = "revenue"
    if statement.plan_id and (plan := await store.plans.get(statement.plan_id)):
        metric = plan.metric
    rows = await store.credits.of_people(
        [person_id], [metric], statement.period_start, statement.period_end
    )
    if statement.status == "closed" and (closed := (await store.periods.closed()).get(period_key)):
        # A closed statement reads as it was paid: later credits show only as
        # the corrections they caused (`carried_out`, and the lines they went to).
        rows = [row for row in rows if row.seq <= closed.last_credit_seq]
    carried = await store.adjustments.out_of(person_id, period_key)
    return StatementDetail(statement, _deals(rows), carried)


class WhatIfDeal(Protocol):
    """A deal as the caller imagines it."""

    @property
    def amount(self) -> Decimal: ...
    @property
    def credited_on(self) -> date | None: ...
    @property
    def deal_id(self) -> str | None: ...
    @property
    def product_line(self) -> str | None: ...


@dataclass(frozen=True)
class WhatIf:
    now: Pricing
    then: Pricing
    next_steps: list[pricing.NextStep]


async def what_if(
    uow: Uow,
    calendar: FiscalCalendar,
    principal: Principal,
    person_id: str,
    period_key: str,
    deals: Sequence[WhatIfDeal],
) -> WhatIf:
    """What the statement would be if these deals closed, and what is needed
    from there to reach the next tier, gate or threshold."""
    await require_person(uow.store, principal, person_id)
    period, _ = priced_period(
        calendar, period_key, field="period_key", refusal="plans price a month, quarter or year"
    )
    credits = []
    for index, deal in enumerate(deals):
        day = deal.credited_on or period.end
        if not period.start <= day <= period.end:
            raise FieldError(
                f"deals.{index}.credited_on",
                f"{day} is outside {period_key} ({period.start} to {period.end})",
            )
        credits.append(
            pricing.Credit(
                entry_id=f"what-if:{index}",
                deal_id=deal.deal_id or f"what-if-{index + 1}",
                credited_on=day,
                amount=deal.amount,
                product_line=deal.product_line,
            )
        )
    now, then, terms = await estimate(uow, calendar, (person_id, period_key), credits)
    return WhatIf(now, then, _next_steps(terms, then))


def _next_steps(terms: PlanTerms | None, then: Pricing) -> list[pricing.NextStep]:
    if terms is None:
        return []
    return pricing.next_steps(terms, quota=then.quota, revenue=then.priced.revenue)


def _deals(rows: Sequence[Any]) -> list[DealTotal]:
    """The ledger rows netted per deal: what the statement's revenue is made of."""
    by_deal: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_deal[row.deal_id].append(row)
    deals = []
    for deal_id, entries in by_deal.items():
        first: date = min(entry.credited_on for entry in entries)
        deals.append(
            DealTotal(
                deal_id=deal_id,
                credited_on=first,
                product_line=next((e.product_line for e in entries if e.product_line), None),
                amount=sum((entry.amount for entry in entries), Decimal(0)),
                entries=len(entries),
            )
        )
    return sorted(deals, key=lambda deal: (deal.credited_on, deal.deal_id))
