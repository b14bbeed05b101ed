"""A person's earnings in one period: the priced lines and their total."""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from incentive_service.api.models import EarningLine, PeriodEarnings
from incentive_service.domain.flat_rate import formula
from incentive_service.store import queries
from servicekit.app import UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, NotPermitted, Role, require_roles

router = APIRouter(tags=["earnings"])
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP)
MONTH_KEY = r"^\d{4}-(0[1-9]|1[0-2])$"


@router.get("/people/{person_id}/earnings", dependencies=[can_read], response_model=PeriodEarnings)
async def get_earnings(
    person_id: str,
    period: Annotated[str, Query(pattern=MONTH_KEY, description="a month, e.g. 2026-03")],
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> PeriodEarnings:
    if not principal.has_any(Role.ADMIN, Role.PLANNER, Role.MANAGER) and (
        principal.person_id != person_id
    ):
        raise NotPermitted("no such resource")
    rows = await queries.earnings(uow.session, person_id, period)
    lines = [
        EarningLine(
            entry_id=row.entry_id,
            deal_id=row.deal_id,
            plan_id=row.plan_id,
            credited_on=row.credited_on,
            base_amount=row.base_amount,
            rate=row.rate,
            amount=row.amount,
            currency=row.currency,
            formula=formula(row.base_amount, row.rate, row.amount),
        )
        for row in rows
    ]
    return PeriodEarnings(
        person_id=person_id,
        period_key=period,
        lines=lines,
        count=len(lines),
        # DOMAIN.md §7: the total is the sum of the rounded lines.
        total=sum((line.amount for line in lines), Decimal("0.00")),
        currency=lines[0].currency if lines else None,
    )
