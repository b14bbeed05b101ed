"""Incentive plans: what they price and for whom, and their terms, versioned by
the day they take effect. A version may not change a closed period: its
statements are already paid."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from attain_contracts.calendar import FiscalCalendar
from incentive_service.domain.plans import PlanTerms, plan_problems
from incentive_service.service_layer import Uow
from incentive_service.service_layer.repricing import reprice_plan
from incentive_service.service_layer.visibility import sees_plan, visibility
from incentive_service.store.tables import Plan, PlanVersion
from servicekit.auth import Principal
from servicekit.errors import Clash, FieldError, Missing


@dataclass(frozen=True)
class PlanWithVersions:
    plan: Plan
    versions: list[PlanVersion]


async def put_plan(
    uow: Uow, calendar: FiscalCalendar, plan_id: str, terms: dict[str, Any]
) -> PlanWithVersions:
    """Create the plan or change it (`terms`: the plan's columns); a plan with
    versions keeps its metric, period kind and currency."""
    store = uow.store
    plan = await store.plans.get(plan_id, for_update=True)
    if plan is None:
        plan = Plan(id=plan_id, updated_at=uow.clock.now(), **terms)
        await store.plans.add(plan)
    elif any(getattr(plan, name) != value for name, value in terms.items()):
        versions = await store.plans.versions(plan_id)
        for name in ("metric", "period_kind", "currency"):
            if versions and getattr(plan, name) != terms[name]:
                raise Clash(
                    f"a plan with versions keeps its {name} ({getattr(plan, name)}); "
                    "create a new plan instead",
                    field="period" if name == "period_kind" else name,
                )
        for name, value in terms.items():
            setattr(plan, name, value)
        plan.revision += 1
        plan.updated_at = uow.clock.now()
    await store.flush()
    await reprice_plan(uow, calendar, plan)
    return await _with_versions(uow, plan)


async def put_version(
    uow: Uow, calendar: FiscalCalendar, plan_id: str, effective_from: date, terms: PlanTerms
) -> PlanWithVersions:
    store = uow.store
    plan = await store.plans.get(plan_id, for_update=True)
    if plan is None:
        raise Missing(f"no plan {plan_id}")
    starts = calendar.containing(effective_from, plan.period_kind)  # type: ignore[arg-type]
    if starts.start != effective_from:
        raise FieldError(
            "effective_from",
            f"a {plan.period_kind}ly plan's version takes effect on the first day of a "
            f"{plan.period_kind}, e.g. {starts.start} ({starts.key})",
        )
    problems = plan_problems(terms)
    if problems:
        raise FieldError(
            problems[0].field,
            "; ".join(f"{p.field}: {p.reason}" for p in problems),
            errors=[{"field": p.field, "code": p.code, "reason": p.reason} for p in problems],
        )
    versions = await store.plans.versions(plan_id)
    stored = terms.model_dump(mode="json")
    held = next((v for v in versions if v.effective_from == effective_from), None)
    if held is not None and held.terms == stored:
        # The same terms again change no period, closed or not: a repeated PUT succeeds.
        return PlanWithVersions(plan, versions)
    following = min(
        (v.effective_from for v in versions if v.effective_from > effective_from), default=None
    )
    closed = await store.periods.closed_between(plan.period_kind, effective_from, following)
    if closed:
        raise Clash(
            f"{', '.join(closed)} closed; a version may only take effect after "
            "the last closed period",
            field="effective_from",
        )
    now = uow.clock.now()
    if held is None:
        await store.plans.add(
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
    await store.flush()
    await reprice_plan(uow, calendar, plan)
    return await _with_versions(uow, plan)


async def visible_plans(uow: Uow, principal: Principal) -> list[Plan]:
    seen = await visibility(uow.store, principal)
    return [
        plan
        for plan in await uow.store.plans.all()
        if await sees_plan(uow.store, seen, plan.assignments)
    ]


async def with_versions(uow: Uow, plans: list[Plan]) -> list[PlanWithVersions]:
    return [await _with_versions(uow, plan) for plan in plans]


async def plan(uow: Uow, principal: Principal, plan_id: str) -> PlanWithVersions:
    found = await uow.store.plans.get(plan_id)
    if found is None or not await sees_plan(
        uow.store, await visibility(uow.store, principal), found.assignments
    ):
        raise Missing(f"no plan {plan_id}")
    return await _with_versions(uow, found)


async def _with_versions(uow: Uow, plan: Plan) -> PlanWithVersions:
    return PlanWithVersions(plan, await uow.store.plans.versions(plan.id))
