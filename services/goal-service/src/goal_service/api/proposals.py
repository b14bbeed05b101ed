"""Bottom-up (DOMAIN.md §5.4): the owners of a goal's children propose their
share; the goal's side sees the sum, the gap to its target and the coverage.
A rep proposes their own share, a manager any child in their subtree."""

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from attain_contracts import Period
from goal_service.api.models import Input
from goal_service.api.visibility import visibility, visible_goal
from goal_service.domain import reconcile
from goal_service.plans.scopes import Scope, Scopes
from goal_service.store import queries
from goal_service.store.tables import Goal, Proposal
from servicekit.app import UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Principal, Role, require_roles
from servicekit.problems import InvalidInput, NotFound

router = APIRouter(tags=["proposals"])
can_propose = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP)
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.VIEWER)


class ProposalPut(Input):
    value: Decimal = Field(ge=0)
    note: str | None = Field(default=None, max_length=2000)


class ProposalPublic(BaseModel):
    goal_id: str
    scope: str
    value: Decimal
    note: str | None
    submitted_by: str
    submitted_at: datetime


class BottomUpPublic(BaseModel):
    goal_id: str
    target: Decimal
    proposals: list[ProposalPublic]
    total: Decimal
    gap: Decimal = Field(description="target - total: what the proposals leave uncovered")
    coverage: Decimal = Field(description="total / target")
    missing: list[str] = Field(description="children that have not proposed yet")


@router.put(
    "/goals/{goal_id}/proposals/{scope}",
    dependencies=[can_propose],
    response_model=ProposalPublic,
)
async def put_proposal(
    goal_id: str, scope: str, body: ProposalPut, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Proposal:
    """`scope` is the child org unit's id, or the person's id on a team goal."""
    session = uow.session
    goal = await _goal_for(session, principal, goal_id, scope)
    children = {s.id for s in await _children(session, goal)}
    if scope not in children:
        raise InvalidInput(
            f"{scope} is not a child of goal {goal_id}; children: {sorted(children)}",
            field="scope",
        )
    proposal = await session.get(Proposal, (goal_id, scope))
    now = uow.clock.now()
    if proposal is None:
        proposal = Proposal(
            goal_id=goal_id,
            scope=scope,
            submitted_by=principal.subject,
            submitted_at=now,
            **body.model_dump(),
        )
        session.add(proposal)
    else:
        proposal.value, proposal.note = body.value, body.note
        proposal.submitted_by, proposal.submitted_at = principal.subject, now
    await uow.commit()
    return proposal


@router.get("/goals/{goal_id}/proposals", dependencies=[can_read], response_model=BottomUpPublic)
async def bottom_up(
    goal_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> BottomUpPublic:
    session = uow.session
    goal = await visible_goal(session, principal, goal_id)
    children = [s.id for s in await _children(session, goal)]
    proposals = {p.scope: p for p in await queries.proposals(session, goal_id)}
    summary = reconcile.summarise(
        goal.target, [proposals[c].value if c in proposals else None for c in children]
    )
    return BottomUpPublic(
        goal_id=goal_id,
        target=goal.target,
        proposals=[
            ProposalPublic.model_validate(p, from_attributes=True) for p in proposals.values()
        ],
        total=summary.total,
        gap=summary.gap,
        coverage=summary.coverage,
        missing=[c for c in children if c not in proposals],
    )


async def _goal_for(session: AsyncSession, principal: Principal, goal_id: str, scope: str) -> Goal:
    """A rep may propose only their own share, of a goal of the unit they are in."""
    seen = await visibility(session, principal)
    if seen.everything or seen.managed:
        goal = await visible_goal(session, principal, goal_id)
        if seen.shapes or scope in seen.managed or await _in_managed(session, seen.managed, scope):
            return goal
        raise NotFound(f"no goal {goal_id}")
    own = await queries.goal(session, goal_id)
    if own is None or not seen.is_person(scope):
        raise NotFound(f"no goal {goal_id}")
    if await queries.current_unit(session, scope, own.period_start) != own.org_unit_id:
        raise NotFound(f"no goal {goal_id}")
    return own


async def _in_managed(session: AsyncSession, managed: frozenset[str], scope: str) -> bool:
    unit = await queries.org_unit(session, scope)
    if unit is not None:
        return not managed.isdisjoint(unit.path)
    for membership in await queries.memberships(session, scope):
        member_unit = await queries.org_unit(session, membership.org_unit_id)
        if member_unit is not None and not managed.isdisjoint(member_unit.path):
            return True
    return False


async def _children(session: AsyncSession, goal: Goal) -> list[Scope]:
    period = Period(start=goal.period_start, end=goal.period_end)
    return await Scopes(session).children(goal.org_unit_id, goal.person_id, period, "auto")
