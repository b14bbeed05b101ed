"""Request and response models of incentive-service's HTTP API."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, field_serializer, model_validator

from attain_contracts.types import (
    DecimalString,
    DecimalText,
    MoneyString,
    RatioString,
    write_metric,
    write_money,
)
from incentive_service.domain.assignment import Role
from servicekit.inputs import InputModel
from servicekit.paging import Page

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class Input(InputModel):
    """Every request body of this service."""


class Assignment(Input):
    """A person by id, or everyone with a role (within an org unit's subtree when given)."""

    person_id: str | None = Field(default=None, min_length=1, max_length=100)
    role: Role | None = None
    org_unit_id: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _names_someone(self) -> "Assignment":
        if (self.person_id is None) == (self.role is None):
            raise ValueError("give either person_id or role")
        if self.person_id is not None and self.org_unit_id is not None:
            raise ValueError("org_unit_id narrows a role, not a person")
        return self


class PlanPut(Input):
    name: str = Field(min_length=1, max_length=200)
    metric: Literal["revenue", "collections"] = "revenue"
    period: Literal["month", "quarter", "year"]
    currency: str = Field(pattern="^[A-Z]{3}$")
    assignments: list[Assignment] = Field(min_length=1)


class PlanVersionPublic(BaseModel):
    effective_from: date
    effective_to: date | None = Field(description="exclusive: the next version's first day")
    revision: int
    terms: dict[str, object]


class PlanPublic(BaseModel):
    id: str
    name: str
    metric: str
    period: str
    currency: str
    assignments: list[dict[str, object]]
    revision: int
    updated_at: datetime
    versions: list[PlanVersionPublic]


class PlanList(Page[PlanPublic]):
    """The plans the caller may see: those that may apply to them or to people they manage."""


class LineDeal(BaseModel):
    """A deal behind an adjustment line: how much it changed, in which period."""

    deal_id: str
    amount: MoneyString
    period_key: str


class LinePublic(BaseModel):
    kind: str
    component_id: str | None
    source: str
    basis: MoneyString
    rate: RatioString | None
    amount: MoneyString
    formula: str
    deals: list[LineDeal] = Field(
        default_factory=list,
        description="for a clawback, adjustment or late correction: the deals behind it",
    )


class AdjustmentDeal(BaseModel):
    deal_id: str
    amount: MoneyString = Field(description="how much the deal's credits changed")


class DealCredited(BaseModel):
    deal_id: str
    credited_on: date
    product_line: str | None
    amount: MoneyString = Field(description="net of every ledger row of the deal in this period")
    entries: int


class AdjustmentPublic(BaseModel):
    kind: Literal["restated", "outside_window"] = Field(
        description="outside_window: a correction after the clawback window, carried as 0"
    )
    source_period_key: str
    target_period_key: str
    restated: MoneyString
    paid: MoneyString
    amount: MoneyString
    deals: list[AdjustmentDeal]
    window_end: datetime | None
    created_at: datetime


class StatementSummary(BaseModel):
    id: str
    person_id: str
    period_key: str
    status: Literal["open", "closed"]
    currency: str
    total: DecimalString
    attainment: RatioString | None
    version: int

    @field_serializer("total", when_used="json")
    def _write_total(self, total: Decimal) -> DecimalText:
        return write_money(total, self.currency)


class StatementPublic(StatementSummary):
    period_start: date
    period_end: date
    plan_id: str | None
    plan_effective_from: date | None
    quota_goal_id: str | None
    quota: MoneyString | None
    revenue: MoneyString
    lines: list[LinePublic]
    warnings: list[str]
    deals: list[DealCredited]
    carried_out: list[AdjustmentPublic] = Field(
        description="corrections of this (closed) statement paid in later periods"
    )
    priced_at: datetime
    closed_at: datetime | None


class StatementList(Page[StatementSummary]):
    """In the list's order; paged by `limit` and `after`."""


class WhatIfDeal(Input):
    deal_id: str | None = Field(default=None, min_length=1, max_length=100)
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=4)
    product_line: str | None = Field(default=None, min_length=1, max_length=100)
    credited_on: date | None = Field(default=None, description="defaults to the period's last day")


class EstimateRequest(Input):
    period_key: str = Field(min_length=4, max_length=20)
    deals: list[WhatIfDeal] = Field(default=[], max_length=1_000)


class NextStepPublic(BaseModel):
    component_id: str
    kind: str
    attainment: RatioString
    revenue_needed: MoneyString
    description: str


class Estimate(BaseModel):
    person_id: str
    period_key: str
    plan_id: str | None
    currency: str
    current_total: DecimalString
    estimated_total: DecimalString
    difference: DecimalString
    current_attainment: RatioString | None
    estimated_attainment: RatioString | None
    lines: list[LinePublic]
    warnings: list[str]
    next_steps: list[NextStepPublic] = Field(description="from the estimated position")

    @field_serializer("current_total", "estimated_total", "difference", when_used="json")
    def _write_total(self, total: Decimal) -> DecimalText:
        return write_money(total, self.currency)


class PayoutRunPublic(BaseModel):
    period_key: str
    statements: int
    changed: int
    total: MoneyString
    digest: str


class PeriodClosed(PayoutRunPublic):
    closed_at: datetime
    badges_awarded: int


class LeaderboardRow(BaseModel):
    rank: int | None
    person_id: str
    name: str
    org_unit_id: str
    target: DecimalString | None
    actual: DecimalString
    attainment: RatioString | None


class Leaderboard(Page[LeaderboardRow]):
    """Ranked; a page after `after` (a person id) keeps the ranks of the whole board."""

    org_unit_id: str
    period_key: str
    metric: str

    @field_serializer("data", when_used="json")
    def _write_rows(self, rows: list[LeaderboardRow]) -> list[dict[str, Any]]:
        """The rows' target and actual as the board's metric reads."""
        return [
            {
                **row.model_dump(mode="json"),
                "target": write_metric(row.target, self.metric),
                "actual": write_metric(row.actual, self.metric),
            }
            for row in rows
        ]


class BadgePublic(BaseModel):
    badge_id: str
    badge: str
    period_key: str
    reason: str
    awarded_at: datetime


class BadgeList(Page[BadgePublic]):
    """In the list's order; paged by `limit` and `after`."""


class GrowthPut(Input):
    score: Decimal = Field(ge=0, le=100, decimal_places=2)
    note: str | None = Field(default=None, max_length=2_000)


class WeightsPut(Input):
    results: Decimal = Field(ge=0, le=1)
    process: Decimal = Field(ge=0, le=1)
    growth: Decimal = Field(ge=0, le=1)


class ScorecardPart(BaseModel):
    name: str
    score: DecimalString | None
    weight: RatioString
    applied_weight: RatioString
    explanation: str


class ScorecardPublic(BaseModel):
    person_id: str
    period_key: str
    score: DecimalString | None
    parts: list[ScorecardPart]
    weights_from: str | None = Field(
        description="the org unit whose weights apply; none for the defaults"
    )
