"""Request and response models of goal-service's HTTP API."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrgUnitPut(Input):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="team", min_length=1, max_length=50)
    parent_id: str | None = None
    manager_id: str | None = None


class OrgUnitPublic(BaseModel):
    id: str
    name: str
    kind: str
    parent_id: str | None
    manager_id: str | None
    path: list[str]
    version: int
    updated_at: datetime


class PersonPut(Input):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    org_unit_id: str
    member_since: date | None = Field(
        default=None, description="when the person joined the org unit; today when omitted"
    )
    maturity: Literal["new", "experienced"] = "experienced"


class MembershipPublic(BaseModel):
    org_unit_id: str
    valid_from: date
    valid_to: date | None


class PersonPublic(BaseModel):
    id: str
    name: str
    email: str | None
    maturity: str
    memberships: list[MembershipPublic]
    version: int
    updated_at: datetime


class GoalCreate(Input):
    metric: str
    org_unit_id: str
    person_id: str | None = Field(default=None, description="for a person's own target")
    owner_id: str
    product_line: str | None = None
    parent_id: str | None = None
    period_key: str | None = Field(default=None, description="2026-03 or 2026-W09")
    period_start: date | None = None
    period_end: date | None = None
    target: Decimal
    currency: str | None = Field(default=None, pattern="^[A-Z]{3}$")
    status: Literal["draft", "active"] = "active"
    rationale: str | None = None

    @model_validator(mode="after")
    def _one_way_to_name_the_period(self) -> "GoalCreate":
        explicit = self.period_start is not None or self.period_end is not None
        if self.period_key is None and not (self.period_start and self.period_end):
            raise ValueError("give period_key, or both period_start and period_end")
        if self.period_key is not None and explicit:
            raise ValueError("give period_key or explicit dates, not both")
        return self


class GoalPublic(BaseModel):
    id: str
    parent_id: str | None
    metric: str
    direction: str
    org_unit_id: str
    person_id: str | None
    owner_id: str
    product_line: str | None
    period_key: str | None
    period_start: date
    period_end: date
    target: Decimal
    currency: str | None
    status: str
    method: str
    rationale: str | None
    version: int
    updated_at: datetime
