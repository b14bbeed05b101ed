"""A person's statements, line by line, and what-if estimates against them."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal, cast

from fastapi import APIRouter, Request

from incentive_service.api.models import (
    AdjustmentPublic,
    DealCredited,
    Estimate,
    EstimateRequest,
    LinePublic,
    NextStepPublic,
    StatementList,
    StatementPublic,
    StatementSummary,
)
from incentive_service.api.plans import calendar_of
from incentive_service.api.visibility import require_person
from incentive_service.domain import pricing
from incentive_service.statements import StatementEngine, line_json, statement_id
from incentive_service.store import queries
from incentive_service.store.tables import Statement
from servicekit.app import UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Role, require_roles
from servicekit.paging import PagingDep, page_of
from servicekit.problems import InvalidInput, NotFound

router = APIRouter(tags=["statements"])
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP, Role.VIEWER)


@router.get("/people/{person_id}/statements", dependencies=[can_read], response_model=StatementList)
async def list_statements(
    person_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal, paging: PagingDep
) -> StatementList:
    await require_person(uow.session, principal, person_id)
    held = await queries.statements_of_person(uow.session, person_id)
    page = page_of(held, paging, key=lambda s: s.period_key)
    return StatementList(
        data=[_summary(s) for s in page.data], count=page.count, next_after=page.next_after
    )


@router.get(
    "/people/{person_id}/statements/{period_key}",
    dependencies=[can_read],
    response_model=StatementPublic,
)
async def get_statement(
    person_id: str, period_key: str, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> StatementPublic:
    session = uow.session
    await require_person(session, principal, person_id)
    statement = await queries.statement(session, person_id, period_key)
    if statement is None:
        raise NotFound(f"no statement for {person_id} in {period_key}")
    metric = "revenue"
    if statement.plan_id and (plan := await queries.plan(session, statement.plan_id)):
        metric = plan.metric
    rows = await queries.credits(
        session, [person_id], [metric], statement.period_start, statement.period_end
    )
    carried = await queries.adjustments_out_of(session, person_id, period_key)
    return StatementPublic(
        **_summary(statement).model_dump(),
        period_start=statement.period_start,
        period_end=statement.period_end,
        plan_id=statement.plan_id,
        plan_effective_from=statement.plan_effective_from,
        quota_goal_id=statement.quota_goal_id,
        quota=statement.quota,
        revenue=statement.revenue,
        lines=[LinePublic.model_validate(line) for line in statement.lines],
        warnings=statement.warnings,
        deals=_deals(rows),
        carried_out=[AdjustmentPublic.model_validate(a, from_attributes=True) for a in carried],
        priced_at=statement.priced_at,
        closed_at=statement.closed_at,
    )


@router.post("/people/{person_id}/estimates", dependencies=[can_read], response_model=Estimate)
async def estimate(
    person_id: str,
    body: EstimateRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    request: Request,
) -> Estimate:
    """What the statement would be if these deals closed, and what is needed
    from there to reach the next tier, gate or threshold."""
    await require_person(uow.session, principal, person_id)
    engine = StatementEngine(uow, calendar_of(request))
    try:
        found = engine.period(body.period_key)
    except ValueError as error:
        raise InvalidInput(str(error), field="period_key") from error
    if found is None:
        raise InvalidInput("plans price a month, quarter or year", field="period_key")
    period, _ = found
    deals = []
    for index, deal in enumerate(body.deals):
        day = deal.credited_on or period.end
        if not period.start <= day <= period.end:
            raise InvalidInput(
                f"{day} is outside {body.period_key} ({period.start} to {period.end})",
                field=f"deals.{index}.credited_on",
            )
        deal_id = deal.deal_id or f"what-if-{index + 1}"
        deals.append(
            pricing.Credit(
                entry_id=f"what-if:{index}",
                deal_id=deal_id,
                credited_on=day,
                amount=deal.amount,
                product_line=deal.product_line,
            )
        )
    try:
        now, then, terms = await engine.estimate((person_id, body.period_key), deals)
    except LookupError as error:
        raise NotFound(str(error)) from error
    steps = (
        pricing.next_steps(terms, quota=then.quota, revenue=then.priced.revenue) if terms else []
    )
    return Estimate(
        person_id=person_id,
        period_key=body.period_key,
        plan_id=then.plan.id if then.plan else None,
        currency=then.currency,
        current_total=now.priced.total,
        estimated_total=then.priced.total,
        difference=then.priced.total - now.priced.total,
        current_attainment=now.priced.attainment,
        estimated_attainment=then.priced.attainment,
        lines=[LinePublic.model_validate(line_json(line)) for line in then.priced.lines],
        warnings=list(then.priced.warnings),
        next_steps=[NextStepPublic.model_validate(step, from_attributes=True) for step in steps],
    )


def _summary(statement: Statement) -> StatementSummary:
    return StatementSummary(
        id=statement_id(statement.person_id, statement.period_key),
        person_id=statement.person_id,
        period_key=statement.period_key,
        status=cast(Literal["open", "closed"], statement.status),
        currency=statement.currency,
        total=statement.total,
        attainment=statement.attainment,
        version=statement.version,
    )


def _deals(rows: Sequence[Any]) -> list[DealCredited]:
    """The ledger rows netted per deal: what the statement's revenue is made of."""
    by_deal: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_deal[row.deal_id].append(row)
    deals = []
    for deal_id, entries in by_deal.items():
        first: date = min(entry.credited_on for entry in entries)
        deals.append(
            DealCredited(
                deal_id=deal_id,
                credited_on=first,
                product_line=next((e.product_line for e in entries if e.product_line), None),
                amount=sum((entry.amount for entry in entries), Decimal(0)),
                entries=len(entries),
            )
        )
    return sorted(deals, key=lambda deal: (deal.credited_on, deal.deal_id))
