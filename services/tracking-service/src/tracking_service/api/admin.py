"""Operator views: how far live progress is behind the ledger."""

from fastapi import APIRouter
from pydantic import BaseModel

from servicekit.app import UnitOfWorkDep
from servicekit.auth import Role, require_roles
from tracking_service.store import projection

router = APIRouter(tags=["admin"])


class ProjectionState(BaseModel):
    ledger_entries: int
    unprojected: int
    parked: int


@router.get(
    "/admin/projection", dependencies=[require_roles(Role.ADMIN)], response_model=ProjectionState
)
async def projection_state(uow: UnitOfWorkDep) -> ProjectionState:
    """Live progress is current when `unprojected` is 0; `parked` records wait for an FX rate."""
    return ProjectionState(**await projection.state(uow.session))
