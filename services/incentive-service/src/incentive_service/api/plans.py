"""Flat-rate incentive plans: one rate over a span of effective dates."""

from fastapi import APIRouter

from incentive_service.api.models import PlanPublic, PlanPut
from incentive_service.store import queries
from incentive_service.store.tables import Plan
from servicekit.app import UnitOfWorkDep
from servicekit.auth import Role, require_roles
from servicekit.problems import InvalidInput, NotFound

router = APIRouter(tags=["plans"])
can_shape = require_roles(Role.ADMIN, Role.PLANNER)
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP, Role.VIEWER)


@router.put("/plans/{plan_id}", dependencies=[can_shape], response_model=PlanPublic)
async def put_plan(plan_id: str, body: PlanPut, uow: UnitOfWorkDep) -> Plan:
    if body.effective_to is not None and body.effective_to <= body.effective_from:
        raise InvalidInput("a plan must end after it takes effect", field="effective_to")
    session = uow.session
    terms = body.model_dump()
    plan = await queries.plan(session, plan_id)
    if plan is None:
        plan = Plan(id=plan_id, updated_at=uow.clock.now(), **terms)
        session.add(plan)
    elif any(getattr(plan, name) != value for name, value in terms.items()):
        for name, value in terms.items():
            setattr(plan, name, value)
        plan.version += 1
        plan.updated_at = uow.clock.now()
    await uow.commit()
    return plan


@router.get("/plans/{plan_id}", dependencies=[can_read], response_model=PlanPublic)
async def get_plan(plan_id: str, uow: UnitOfWorkDep) -> Plan:
    plan = await queries.plan(uow.session, plan_id)
    if plan is None:
        raise NotFound(f"no plan {plan_id}")
    return plan
