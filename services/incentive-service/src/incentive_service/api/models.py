"""Request and response models of incentive-service's HTTP API."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanPut(Input):
    name: str = Field(min_length=1, max_length=200)
    rate: Decimal = Field(ge=0, le=1, description="a fraction of the credited amount: 0.05 is 5%")
    currency: str = Field(pattern="^[A-Z]{3}$")
    effective_from: date
    effective_to: date | None = Field(default=None, description="exclusive; open when omitted")


class PlanPublic(BaseModel):
    id: str
    name: str
    metric: str
    rate: Decimal
    currency: str
    effective_from: date
    effective_to: date | None
    version: int
    updated_at: datetime


class EarningLine(BaseModel):
    entry_id: str
    deal_id: str
    plan_id: str
    credited_on: date
    base_amount: Decimal
    rate: Decimal
    amount: Decimal
    currency: str
    formula: str


class PeriodEarnings(BaseModel):
    person_id: str
    period_key: str
    lines: list[EarningLine]
    count: int
    total: Decimal
    currency: str | None = Field(description="none while the period has no lines")
