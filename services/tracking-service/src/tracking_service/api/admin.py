"""Operator views: how far live progress is behind the ledger, and which records
wait for an FX rate."""

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from servicekit import roles
from tracking_service.api.dependencies import Uow
from tracking_service.service_layer import operations

router = APIRouter(tags=["admin"])


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


@router.get("/admin/projection", dependencies=[roles.admins], response_model=ProjectionState)
async def projection_state(uow: Uow) -> ProjectionState:
    """Live progress is current when `unprojected` is 0; `parked` records wait for an FX rate."""
    return ProjectionState(**await operations.projection_state(uow.store))


@router.get("/admin/parked", dependencies=[roles.admins], response_model=ParkedList)
async def parked_records(uow: Uow, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> ParkedList:
    """The records not in the ledger yet and why, so an operator knows which rate to add."""
    count, records = await operations.parked_records(uow.store, limit)
    return ParkedList(
        count=count,
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
