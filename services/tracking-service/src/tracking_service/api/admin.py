"""Operator views: how far live progress is behind the ledger, and which records
wait for an FX rate."""

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from servicekit.app import UnitOfWorkDep
from servicekit.auth import Role, require_roles
from tracking_service.store import projection, queries

router = APIRouter(tags=["admin"])
admin_only = require_roles(Role.ADMIN)


class ProjectionState(BaseModel):
    ledger_entries: int
    unprojected: int
    parked: int


class ParkedRecord(BaseModel):
    source_id: str
    kind: str
    record_id: str
    version: int
    status: str
    owner_id: str
    amount: Decimal | None
    currency: str | None
    reason: str
    waiting_for_currency: str | None = Field(description="the rate that would credit it")
    waiting_for_on: date | None


class ParkedList(BaseModel):
    count: int = Field(description="every parked record; `data` holds the first `limit`")
    data: list[ParkedRecord]


@router.get("/admin/projection", dependencies=[admin_only], response_model=ProjectionState)
async def projection_state(uow: UnitOfWorkDep) -> ProjectionState:
    """Live progress is current when `unprojected` is 0; `parked` records wait for an FX rate."""
    return ProjectionState(**await projection.state(uow.session))


@router.get("/admin/parked", dependencies=[admin_only], response_model=ParkedList)
async def parked_records(
    uow: UnitOfWorkDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> ParkedList:
    """The records not in the ledger yet and why, so an operator knows which rate to add."""
    records = await queries.parked_records(uow.session, limit)
    state = await projection.state(uow.session)
    return ParkedList(
        count=state["parked"],
        data=[
            ParkedRecord(
                source_id=r.source_id,
                kind=r.kind,
                record_id=r.record_id,
                version=r.version,
                status=r.status,
                owner_id=r.owner_id,
                amount=r.amount,
                currency=r.currency,
                reason=r.parked_reason or "",
                waiting_for_currency=r.parked_currency,
                waiting_for_on=r.parked_on,
            )
            for r in records
        ],
    )
