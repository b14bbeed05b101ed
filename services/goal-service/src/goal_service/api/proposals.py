"""Bottom-up proposals over HTTP (the use cases are `service_layer.proposals`)."""

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from attain_contracts.types import MoneyString, RatioString
from goal_service.api.dependencies import Uow
from goal_service.service_layer import proposals
from goal_service.service_layer.inputs import Input
from servicekit import roles
from servicekit.auth import CurrentPrincipal

router = APIRouter(tags=["proposals"])


class ProposalPut(Input):
    value: Decimal = Field(ge=0)
    note: str | None = Field(default=None, max_length=2000)


class ProposalPublic(BaseModel):
    goal_id: str
    scope: str
    value: MoneyString
    note: str | None
    submitted_by: str
    submitted_at: datetime


class BottomUpPublic(BaseModel):
    goal_id: str
    target: MoneyString
    proposals: list[ProposalPublic]
    total: MoneyString
    gap: MoneyString = Field(description="target - total: what the proposals leave uncovered")
    coverage: RatioString = Field(description="total / target")
    missing: list[str] = Field(description="children that have not proposed yet")


@router.put(
    "/goals/{goal_id}/proposals/{scope}",
    dependencies=[roles.proposers],
    response_model=ProposalPublic,
)
async def put_proposal(
    goal_id: str, scope: str, body: ProposalPut, uow: Uow, principal: CurrentPrincipal
) -> ProposalPublic:
    """`scope` is the child org unit's id, or the person's id on a team goal."""
    proposal = await proposals.propose(
        uow, principal, goal_id, scope, value=body.value, note=body.note
    )
    await uow.commit()
    return ProposalPublic.model_validate(proposal, from_attributes=True)


@router.get(
    "/goals/{goal_id}/proposals", dependencies=[roles.overseers], response_model=BottomUpPublic
)
async def bottom_up(goal_id: str, uow: Uow, principal: CurrentPrincipal) -> BottomUpPublic:
    found = await proposals.bottom_up(uow.store, principal, goal_id)
    return BottomUpPublic(
        goal_id=goal_id,
        target=found.goal.target,
        proposals=[ProposalPublic.model_validate(p, from_attributes=True) for p in found.proposals],
        total=found.summary.total,
        gap=found.summary.gap,
        coverage=found.summary.coverage,
        missing=found.missing,
    )
