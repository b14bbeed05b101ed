"""Bottom-up (DOMAIN.md §5.4): the owners of a goal's children propose their
share; the goal's side sees the sum, the gap to its target and the coverage.
A rep proposes their own share, a manager any child in their subtree."""

from dataclasses import dataclass
from decimal import Decimal

from attain_contracts import Period
from goal_service.domain import reconcile
from goal_service.service_layer.plan_scopes import Scope, Scopes
from goal_service.service_layer.visibility import shapes, visibility, visible_goal
from goal_service.store import GoalStore
from goal_service.store.tables import Goal, Proposal
from servicekit.auth import Principal
from servicekit.errors import FieldError, Missing
from servicekit.uow import UnitOfWork


@dataclass(frozen=True)
class BottomUp:
    goal: Goal
    proposals: list[Proposal]
    summary: reconcile.BottomUp
    missing: list[str]


async def propose(
    uow: UnitOfWork[GoalStore],
    principal: Principal,
    goal_id: str,
    scope: str,
    *,
    value: Decimal,
    note: str | None,
) -> Proposal:
    """`scope` is the child org unit's id, or the person's id on a team goal; the
    caller commits."""
    store = uow.store
    goal = await _goal_for(store, principal, goal_id, scope)
    children = {s.id for s in await _children(store, goal)}
    if scope not in children:
        raise FieldError(
            "scope", f"{scope} is not a child of goal {goal_id}; children: {sorted(children)}"
        )
    proposal = await store.plans.proposal(goal_id, scope)
    now = uow.clock.now()
    if proposal is None:
        proposal = Proposal(
            goal_id=goal_id,
            scope=scope,
            submitted_by=principal.subject,
            submitted_at=now,
            value=value,
            note=note,
        )
        store.add(proposal)
    else:
        proposal.value, proposal.note = value, note
        proposal.submitted_by, proposal.submitted_at = principal.subject, now
    return proposal


async def bottom_up(store: GoalStore, principal: Principal, goal_id: str) -> BottomUp:
    goal = await visible_goal(store, principal, goal_id)
    children = [s.id for s in await _children(store, goal)]
    proposals = {p.scope: p for p in await store.plans.proposals(goal_id)}
    summary = reconcile.summarise(
        goal.target, [proposals[c].value if c in proposals else None for c in children]
    )
    return BottomUp(
        goal, list(proposals.values()), summary, [c for c in children if c not in proposals]
    )


async def _goal_for(store: GoalStore, principal: Principal, goal_id: str, scope: str) -> Goal:
    """A rep may propose only their own share, of a goal of the unit they are in."""
    seen = await visibility(store, principal)
    if seen.everything or seen.managed:
        goal = await visible_goal(store, principal, goal_id)
        if (
            shapes(principal)
            or scope in seen.managed
            or await _in_managed(store, seen.managed, scope)
        ):
            return goal
        raise Missing(f"no goal {goal_id}")
    own = await store.goals.goal(goal_id)
    if own is None or not seen.is_person(scope):
        raise Missing(f"no goal {goal_id}")
    if await store.org.current_unit(scope, own.period_start) != own.org_unit_id:
        raise Missing(f"no goal {goal_id}")
    return own


async def _in_managed(store: GoalStore, managed: frozenset[str], scope: str) -> bool:
    unit = await store.org.unit(scope)
    if unit is not None:
        return not managed.isdisjoint(unit.path)
    for membership in await store.org.memberships(scope):
        member_unit = await store.org.unit(membership.org_unit_id)
        if member_unit is not None and not managed.isdisjoint(member_unit.path):
            return True
    return False


async def _children(store: GoalStore, goal: Goal) -> list[Scope]:
    period = Period(start=goal.period_start, end=goal.period_end)
    return await Scopes(store).children(goal.org_unit_id, goal.person_id, period, "auto")
