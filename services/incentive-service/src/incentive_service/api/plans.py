"""Incentive plans: what they price and for whom (`PUT /plans/{id}`), and their
terms, versioned by the day they take effect (`PUT /plans/{id}/versions/{day}`)."""

from datetime import date
from typing import Any

from fastapi import APIRouter

from incentive_service.api.dependencies import Calendar, Uow
from incentive_service.api.models import PlanList, PlanPublic, PlanPut, PlanVersionPublic
from incentive_service.domain.plans import PlanTerms
from incentive_service.service_layer import plans
from incentive_service.service_layer.plans import PlanWithVersions
from servicekit import roles
from servicekit.auth import CurrentPrincipal
from servicekit.inputs import Day
from servicekit.paging import PagingDep, page_of

router = APIRouter(tags=["plans"])


@router.put("/plans/{plan_id}", dependencies=[roles.shapers], response_model=PlanPublic)
async def put_plan(plan_id: str, body: PlanPut, uow: Uow, calendar: Calendar) -> PlanPublic:
    terms: dict[str, Any] = {
        "name": body.name,
        "metric": body.metric,
        "period_kind": body.period,
        "currency": body.currency,
        "assignments": [a.model_dump(exclude_none=True) for a in body.assignments],
    }
    stored = await plans.put_plan(uow, calendar, plan_id, terms)
    await uow.commit()
    return _public(stored)


@router.put(
    "/plans/{plan_id}/versions/{effective_from}",
    dependencies=[roles.shapers],
    response_model=PlanPublic,
)
async def put_version(
    plan_id: str, effective_from: Day, body: PlanTerms, uow: Uow, calendar: Calendar
) -> PlanPublic:
    stored = await plans.put_version(uow, calendar, plan_id, effective_from, body)
    await uow.commit()
    return _public(stored)


@router.get("/plans", dependencies=[roles.people], response_model=PlanList)
async def list_plans(uow: Uow, principal: CurrentPrincipal, paging: PagingDep) -> PlanList:
    page = page_of(await plans.visible_plans(uow, principal), paging, key=lambda plan: plan.id)
    return PlanList(
        data=[_public(plan) for plan in await plans.with_versions(uow, page.data)],
        count=page.count,
        next_after=page.next_after,
    )


@router.get("/plans/{plan_id}", dependencies=[roles.people], response_model=PlanPublic)
async def get_plan(plan_id: str, uow: Uow, principal: CurrentPrincipal) -> PlanPublic:
    return _public(await plans.plan(uow, principal, plan_id))


def _public(stored: PlanWithVersions) -> PlanPublic:
    plan, versions = stored.plan, stored.versions
    ends: list[date | None] = [v.effective_from for v in versions[1:]]
    ends.append(None)
    ends = ends[: len(versions)]
    return PlanPublic(
        id=plan.id,
        name=plan.name,
        metric=plan.metric,
        period=plan.period_kind,
        currency=plan.currency,
        assignments=plan.assignments,
        revision=plan.revision,
        updated_at=plan.updated_at,
        versions=[
            PlanVersionPublic(
                effective_from=v.effective_from,
                effective_to=end,
                revision=v.revision,
                terms=v.terms,
            )
            for v, end in zip(versions, ends, strict=True)
        ],
    )
