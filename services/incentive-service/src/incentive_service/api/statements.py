"""A person's statements, line by line, and what-if estimates against them."""

from typing import Literal, cast

from fastapi import APIRouter

from incentive_service.api.dependencies import Calendar, Uow
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
from incentive_service.service_layer import statements
from incentive_service.service_layer.plan_periods import statement_id
from incentive_service.service_layer.pricing import line_json
from incentive_service.service_layer.records import Statement
from servicekit import roles
from servicekit.auth import CurrentPrincipal
from servicekit.paging import PagingDep, page_of

router = APIRouter(tags=["statements"])


@router.get(
    "/people/{person_id}/statements", dependencies=[roles.people], response_model=StatementList
)
async def list_statements(
    person_id: str, uow: Uow, principal: CurrentPrincipal, paging: PagingDep
) -> StatementList:
    held = await statements.statements_of(uow, principal, person_id)
    page = page_of(held, paging, key=lambda s: s.period_key)
    return StatementList(
        data=[_summary(s) for s in page.data], count=page.count, next_after=page.next_after
    )


@router.get(
    "/people/{person_id}/statements/{period_key}",
    dependencies=[roles.people],
    response_model=StatementPublic,
)
async def get_statement(
    person_id: str, period_key: str, uow: Uow, principal: CurrentPrincipal
) -> StatementPublic:
    detail = await statements.statement_detail(uow, principal, person_id, period_key)
    statement = detail.statement
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
        deals=[DealCredited.model_validate(d, from_attributes=True) for d in detail.deals],
        carried_out=[
            AdjustmentPublic.model_validate(a, from_attributes=True) for a in detail.carried_out
        ],
        priced_at=statement.priced_at,
        closed_at=statement.closed_at,
    )


@router.post("/people/{person_id}/estimates", dependencies=[roles.people], response_model=Estimate)
async def estimate(
    person_id: str,
    body: EstimateRequest,
    uow: Uow,
    principal: CurrentPrincipal,
    calendar: Calendar,
) -> Estimate:
    """What the statement would be if these deals closed, and what is needed
    from there to reach the next tier, gate or threshold."""
    found = await statements.what_if(
        uow, calendar, principal, person_id, body.period_key, body.deals
    )
    now, then = found.now, found.then
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
        next_steps=[
            NextStepPublic.model_validate(step, from_attributes=True) for step in found.next_steps
        ],
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
