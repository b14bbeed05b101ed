"""Recording what a CRM tells us about a deal: the new state, the ledger rows
it causes and their `ActualRecorded` events, in the caller's unit of work."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from attain_contracts import ActualRecorded
from servicekit.problems import InvalidInput
from servicekit.uow import UnitOfWork
from tracking_service.domain.ledger import DealState, ledger_delta
from tracking_service.store import queries
from tracking_service.store.tables import Deal, LedgerEntry


class DealIn(BaseModel):
    """The generic deal payload (documented in the README)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    version: int | None = Field(default=None, ge=0, description="grows with every change")
    updated_at: AwareDatetime | None = Field(
        default=None, description="used as the version when version is absent"
    )
    stage: Literal["open", "won", "lost", "cancelled"]
    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=4)
    currency: str = Field(pattern="^[A-Z]{3}$")
    owner_id: str = Field(min_length=1)
    product_line: str | None = None
    customer_id: str | None = None
    created_on: date | None = None
    closed_on: date | None = None

    @model_validator(mode="after")
    def _ordered_and_dated(self) -> "DealIn":
        if self.version is None and self.updated_at is None:
            raise ValueError(
                "give version or updated_at, so that older deliveries can be told apart"
            )
        if self.stage == "won" and self.closed_on is None:
            raise ValueError("a won deal needs closed_on, the date it is credited on")
        return self

    def ordering_version(self) -> int:
        if self.version is not None:
            return self.version
        assert self.updated_at is not None
        return int(self.updated_at.timestamp() * 1_000_000)


@dataclass(frozen=True)
class Recorded:
    deal_id: str
    version: int
    duplicate: bool
    stale: bool
    entries: list[ActualRecorded]


async def record_deal(
    uow: UnitOfWork, source_id: str, deal: DealIn, base_currency: str
) -> Recorded:
    if deal.currency != base_currency:
        raise InvalidInput(
            f"no FX rate to convert {deal.currency} to {base_currency}", field="currency"
        )
    session = uow.session
    version = deal.ordering_version()
    now = uow.clock.now()
    row = Deal(
        source_id=source_id,
        deal_id=deal.id,
        version=version,
        stage=deal.stage,
        amount=deal.amount,
        currency=deal.currency,
        owner_id=deal.owner_id,
        product_line=deal.product_line,
        customer_id=deal.customer_id,
        created_on=deal.created_on,
        closed_on=deal.closed_on,
        received_at=now,
        payload=deal.model_dump(mode="json"),
    )
    stored = await queries.lock_deal(session, source_id, deal.id)
    if stored is None and await queries.insert_deal_if_new(session, row):
        old_state = None
    else:
        stored = stored or await queries.lock_deal(session, source_id, deal.id)
        assert stored is not None
        if version <= stored.version:
            return Recorded(
                deal.id, stored.version, version == stored.version, version < stored.version, []
            )
        old_state = _state(stored)
        for name, value in row.model_dump(exclude={"source_id", "deal_id"}).items():
            setattr(stored, name, value)
    entries = []
    for delta in ledger_delta(old_state, _state(row)):
        key = delta.key
        entry = LedgerEntry(
            id=uuid4(),
            source_id=source_id,
            deal_id=deal.id,
            metric=key.metric,
            person_id=key.person_id,
            org_path=await queries.org_path_on(session, key.person_id, key.credited_on),
            product_line=key.product_line,
            credited_on=key.credited_on,
            amount=delta.amount,
            currency=deal.currency if key.metric == "revenue" else None,
            reason=delta.reason,
            deal_version=version,
            recorded_at=now,
        )
        session.add(entry)
        entries.append(actual_recorded(entry))
    for event in entries:
        uow.publish(event)
    return Recorded(deal.id, version, False, False, entries)


def actual_recorded(entry: LedgerEntry) -> ActualRecorded:
    return ActualRecorded(
        entry_id=str(entry.id),
        deal_id=entry.deal_id,
        source=entry.source_id,
        metric=entry.metric,
        person_id=entry.person_id,
        org_path=entry.org_path,
        product_line=entry.product_line,
        credited_on=entry.credited_on,
        amount=entry.amount,
        currency=entry.currency,
        reason=entry.reason,
        deal_version=entry.deal_version,
        recorded_at=entry.recorded_at,
    )


def _state(deal: Deal) -> DealState:
    return DealState(
        stage=deal.stage,  # type: ignore[arg-type]
        amount=deal.amount,
        owner_id=deal.owner_id,
        closed_on=deal.closed_on,
        product_line=deal.product_line,
    )
