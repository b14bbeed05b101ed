"""Incentive plans: what they price and for whom (`PUT /plans/{id}`), and their
terms, versioned by the day they take effect (`PUT /plans/{id}/versions/{day}`).
A version may not change a closed period: its statements are already paid."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request

from attain_contracts.calendar import FiscalCalendar
from incentive_service.api.models import PlanList, PlanPublic, PlanPut, PlanVersionPublic
from incentive_service.api.visibility import may_see_plan
from incentive_service.domain.plans import PlanTerms, plan_problems
from incentive_service.settings import IncentiveSettings
from incentive_service.statements import reprice_plan
from incentive_service.store import queries
from incentive_service.store.tables import Plan, PlanVersion
from servicekit.app import UnitOfWorkDep, get_runtime
from servicekit.auth import CurrentPrincipal, Role, require_roles
from servicekit.inputs import Day
from servicekit.paging import PagingDep, page_of
from servicekit.problems import Conflict, InvalidInput, NotFound

router = APIRouter(tags=["plans"])
can_shape = require_roles(Role.ADMIN, Role.PLANNER)
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP, Role.VIEWER)


def calendar_of(request: Request) -> FiscalCalendar:
    settings = get_runtime(request).settings
    assert isinstance(settings, IncentiveSettings)
    return settings.calendar()


@router.put("/plans/{plan_id}", dependencies=[can_shape], response_model=PlanPublic)
async def put_plan(plan_id: str, body: PlanPut, uow: UnitOfWorkDep, request: Request) -> PlanPublic:
    session = uow.session
    terms: dict[str, Any] = {
        "name": body.name,
        "metric": body.metric,
        "period_kind": body.period,
        "currency": body.currency,
        "assignments": [a.model_dump(exclude_none=True) for a in body.assignments],
    }
    plan = await queries.plan(session, plan_id, for_update=True)
    if plan is None:
        plan = Plan(id=plan_id, updated_at=uow.clock.now(), **terms)
        session.add(plan)
    elif any(getattr(plan, name) != value for name, value in terms.items()):
        versions = await queries.plan_versions(session, plan_id)
        for name in ("metric", "period_kind", "currency"):
            if versions and getattr(plan, name) != terms[name]:
                raise Conflict(
                    f"a plan with versions keeps its {name} ({getattr(plan, name)}); "
                    "create a new plan instead",
                    field="period" if name == "period_kind" else name,
                )
        for name, value in terms.items():
            setattr(plan, name, value)
        plan.revision += 1
        plan.updated_at = uow.clock.now()
    await session.flush()
    await reprice_plan(uow, calendar_of(request), plan)
    await uow.commit()
    return await _public(uow, plan)


@router.put(
    "/plans/{plan_id}/versions/{effective_from}",
    dependencies=[can_shape],
    response_model=PlanPublic,
)
async def put_version(
    plan_id: str, effective_from: Day, body: PlanTerms, uow: UnitOfWorkDep, request: Request
) -> PlanPublic:
    session = uow.session
    plan = await queries.plan(session, plan_id, for_update=True)
    if plan is None:
        raise NotFound(f"no plan {plan_id}")
    calendar = calendar_of(request)
    starts = calendar.containing(effective_from, plan.period_kind)  # type: ignore[arg-type]
    if starts.start != effective_from:
        raise InvalidInput(
            f"a {plan.period_kind}ly plan's version takes effect on the first day of a "
            f"{plan.period_kind}, e.g. {starts.start} ({starts.key})",
            field="effective_from",
        )
    problems = plan_problems(body)
    if problems:
        raise InvalidInput(
            "; ".join(f"{p.field}: {p.reason}" for p in problems),
            field=problems[0].field,
            errors=[{"field": p.field, "code": p.code, "reason": p.reason} for p in problems],
        )
    versions = await queries.plan_versions(session, plan_id)
    stored = body.model_dump(mode="json")
    held = next((v for v in versions if v.effective_from == effective_from), None)
    if held is not None and held.terms == stored:
        # The same terms again change no period, closed or not: a repeated PUT succeeds.
        return await _public(uow, plan)
    following = min(
        (v.effective_from for v in versions if v.effective_from > effective_from), default=None
    )
    closed = await queries.closed_periods_between(
        session, plan.period_kind, effective_from, following
    )
    if closed:
        raise Conflict(
            f"{', '.join(closed)} closed; a version may only take effect after "
            "the last closed period",
            field="effective_from",
        )
    now = uow.clock.now()
    if held is None:
        session.add(
            PlanVersion(
                plan_id=plan_id,
                effective_from=effective_from,
                terms=stored,
                revision=1,
                updated_at=now,
            )
        )
    else:
        held.terms, held.revision, held.updated_at = stored, held.revision + 1, now
    plan.revision += 1
    plan.updated_at = now
    await session.flush()
    await reprice_plan(uow, calendar, plan)
    await uow.commit()
    return await _public(uow, plan)


@router.get("/plans", dependencies=[can_read], response_model=PlanList)
async def list_plans(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, paging: PagingDep
) -> PlanList:
    visible = [
        plan
        for plan in await queries.plans(uow.session)
        if await may_see_plan(uow.session, principal, plan.assignments)
    ]
    page = page_of(visible, paging, key=lambda plan: plan.id)
    return PlanList(
        data=[await _public(uow, plan) for plan in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.get("/plans/{plan_id}", dependencies=[can_read], response_model=PlanPublic)
async def get_plan(plan_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal) -> PlanPublic:
    plan = await queries.plan(uow.session, plan_id)
    if plan is None or not await may_see_plan(uow.session, principal, plan.assignments):
        raise NotFound(f"no plan {plan_id}")
    return await _public(uow, plan)


async def _public(uow: UnitOfWorkDep, plan: Plan) -> PlanPublic:
    versions = await queries.plan_versions(uow.session, plan.id)
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
