"""The generic JSON shapes a CRM pushes (documented in the README), and how each
becomes a state of the ledger's state machines, in the base currency."""

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from servicekit.errors import FieldError
from servicekit.inputs import InputModel
from tracking_service.domain.fx import CurrencyCode, to_base
from tracking_service.domain.ledger import (
    ActivityState,
    DealState,
    LeadState,
    PaymentState,
    RecordKind,
    RecordState,
    Split,
)

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
Id = Annotated[str, Field(min_length=1, max_length=200)]
Rates = dict[tuple[str, date], Decimal]


class RecordIn(InputModel):
    """What every record carries: an id and something that orders its versions."""

    model_config = ConfigDict(frozen=True)
    kind: ClassVar[RecordKind]

    id: Id
    version: int | None = Field(default=None, ge=0, description="grows with every change")
    updated_at: AwareDatetime | None = Field(
        default=None, description="orders versions when `version` is absent"
    )

    @model_validator(mode="after")
    def _ordered(self) -> "RecordIn":
        if self.version is None and self.updated_at is None:
            raise FieldError(
                "version", "give version or updated_at, so that older deliveries can be told apart"
            )
        return self

    def ordering_version(self) -> int:
        if self.version is not None:
            return self.version
        assert self.updated_at is not None
        return int(self.updated_at.timestamp() * 1_000_000)

    def owner(self) -> str:
        raise NotImplementedError

    def credited_people(self) -> list[str]:
        """Everyone the record can credit, whose org paths the ledger rows need."""
        return [self.owner()]

    def status_name(self) -> str:
        """Where the record stands: a deal's stage, the others' status."""
        raise NotImplementedError

    def naming(self, people: dict[str, str]) -> "RecordIn":
        """The record with each owner id that names a person (`people`: the source's
        owner id → person id) replaced by the person's id."""
        owner = getattr(self, "owner_id", None)
        if owner not in people:
            return self
        return self.model_copy(update={"owner_id": people[owner]})

    def credit_date(self) -> date | None:
        """The date a money amount converts at; None when nothing is credited in money."""
        return None

    def to_state(self, base_currency: str, rates: Rates) -> RecordState:
        """Raises `MissingRate` when a money amount needs a rate not known yet."""
        raise NotImplementedError


class SplitIn(InputModel):
    model_config = ConfigDict(frozen=True)

    owner_id: Id
    percent: Decimal = Field(gt=0, le=100, max_digits=7, decimal_places=4)


class DealIn(RecordIn):
    """A deal (an opportunity, from the day it is created)."""

    kind: ClassVar[RecordKind] = "deal"
    stage: Literal["open", "won", "lost", "cancelled"]
    amount: Money
    currency: CurrencyCode
    owner_id: Id | None = Field(default=None, description="the primary owner")
    splits: list[SplitIn] | None = Field(
        default=None,
        min_length=1,
        description="owners and their percentages (summing to 100) when credit is split",
    )
    product_line: str | None = None
    customer_id: str | None = None
    created_on: date | None = None
    closed_on: date | None = Field(default=None, description="when won or lost: the credit date")
    expected_close_on: date | None = Field(default=None, description="while open: for pipeline")

    @model_validator(mode="after")
    def _consistent(self) -> "DealIn":
        # A close date before the created date is a backdated entry, accepted (its
        # sales cycle counts 0 days: see `domain.ledger`).
        if self.owner_id is None and not self.splits:
            raise FieldError("owner_id", "give owner_id or splits: every deal has an owner")
        if self.splits:
            owners = [split.owner_id for split in self.splits]
            if len(set(owners)) != len(owners):
                raise FieldError("splits", "splits name an owner twice")
            if sum(split.percent for split in self.splits) != 100:
                raise FieldError("splits", "split percentages must add up to 100")
            if self.owner_id is not None and self.owner_id not in owners:
                raise FieldError("owner_id", "owner_id must be one of the split owners")
        if self.stage in ("won", "lost") and self.closed_on is None:
            raise FieldError(
                "closed_on", f"a {self.stage} deal needs closed_on, the date it is credited on"
            )
        return self

    def owner(self) -> str:
        return self._owners()[0].owner_id

    def naming(self, people: dict[str, str]) -> "DealIn":
        owner = self.owner_id
        splits = [
            split.model_copy(update={"owner_id": people.get(split.owner_id, split.owner_id)})
            for split in self.splits or ()
        ]
        return self.model_copy(
            update={
                "owner_id": people.get(owner, owner) if owner is not None else None,
                "splits": splits or self.splits,
            }
        )

    def credited_people(self) -> list[str]:
        return [split.owner_id for split in self._owners()]

    def status_name(self) -> str:
        return self.stage

    def _owners(self) -> tuple[Split, ...]:
        """The primary owner first: `owner_id`, else the largest share (first on ties)."""
        if not self.splits:
            assert self.owner_id is not None
            return (Split(self.owner_id, Decimal(100)),)
        splits = [Split(s.owner_id, s.percent) for s in self.splits]
        primary = self.owner_id or max(splits, key=lambda s: s.percent).owner_id
        return tuple(sorted(splits, key=lambda s: s.owner_id != primary))

    def credit_date(self) -> date | None:
        return self.closed_on if self.stage == "won" else None

    def to_state(self, base_currency: str, rates: Rates) -> DealState:
        on = self.credit_date()
        amount = self.amount
        if on is not None:
            amount = to_base(amount, self.currency, on, base_currency, rates)
        return DealState(
            stage=self.stage,
            amount=amount,
            owners=self._owners(),
            closed_on=self.closed_on,
            created_on=self.created_on,
            product_line=self.product_line,
        )


class PaymentIn(RecordIn):
    """A payment received (回款), credited to `collections` on the day it arrived."""

    kind: ClassVar[RecordKind] = "payment"
    status: Literal["received", "reversed"] = "received"
    amount: Money
    currency: CurrencyCode
    owner_id: Id
    received_on: date
    deal_id: str | None = None
    customer_id: str | None = None
    product_line: str | None = None

    def owner(self) -> str:
        return self.owner_id

    def status_name(self) -> str:
        return self.status

    def credit_date(self) -> date | None:
        return self.received_on if self.status == "received" else None

    def to_state(self, base_currency: str, rates: Rates) -> PaymentState:
        amount = self.amount
        if self.status == "received":
            amount = to_base(amount, self.currency, self.received_on, base_currency, rates)
        return PaymentState(self.status, amount, self.owner_id, self.received_on, self.product_line)


class LeadIn(RecordIn):
    kind: ClassVar[RecordKind] = "lead"
    status: Literal["open", "converted", "disqualified", "deleted"] = "open"
    owner_id: Id
    created_on: date

    def owner(self) -> str:
        return self.owner_id

    def status_name(self) -> str:
        return self.status

    def to_state(self, base_currency: str, rates: Rates) -> LeadState:
        return LeadState(self.status, self.owner_id, self.created_on)


class ActivityIn(RecordIn):
    """A call, meeting, visit or e-mail; counted when done."""

    kind: ClassVar[RecordKind] = "activity"
    type: str = Field(default="other", max_length=50, description="call, meeting, visit, ...")
    status: Literal["done", "planned", "deleted"] = "done"
    owner_id: Id
    occurred_on: date
    deal_id: str | None = None

    def owner(self) -> str:
        return self.owner_id

    def status_name(self) -> str:
        return self.status

    def to_state(self, base_currency: str, rates: Rates) -> ActivityState:
        return ActivityState(self.status, self.owner_id, self.occurred_on)


MODELS: dict[str, type[RecordIn]] = {
    "deals": DealIn,
    "opportunities": DealIn,
    "payments": PaymentIn,
    "leads": LeadIn,
    "activities": ActivityIn,
}
BY_KIND: dict[str, type[RecordIn]] = {model.kind: model for model in MODELS.values()}
