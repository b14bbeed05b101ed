"""Response models of goal-service's HTTP API (the request bodies are
`service_layer.inputs`)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_serializer

from attain_contracts.types import (
    DecimalText,
    MoneyString,
    RatioString,
    metric_kind,
    write_figure,
    write_money,
)
from servicekit.paging import Page


class OrgUnitPublic(BaseModel):
    id: str
    name: str
    kind: str
    parent_id: str | None
    manager_id: str | None
    path: list[str]
    version: int
    updated_at: datetime


class MembershipPublic(BaseModel):
    org_unit_id: str
    valid_from: date
    valid_to: date | None


class MemberPublic(BaseModel):
    # No e-mail: any reader lists a unit's members, while a person's record (and its
    # e-mail) is theirs and their managers' (GET /people/{id}).
    id: str
    name: str


class MemberList(Page[MemberPublic]):
    """By id."""


class PersonPublic(BaseModel):
    id: str
    name: str
    email: str | None
    maturity: str
    hired_on: date | None
    carries_quota: bool | None
    crm_ids: dict[str, str] = Field(description="owner id in each CRM source, by source id")
    memberships: list[MembershipPublic]
    version: int
    updated_at: datetime


class MilestonePublic(BaseModel):
    on: date
    cumulative_target: Decimal


class GoalPublic(BaseModel):
    id: str
    parent_id: str | None
    metric: str
    direction: str
    org_unit_id: str
    person_id: str | None
    owner_id: str
    contributors: list[str]
    product_line: str | None
    period_key: str | None
    period_start: date
    period_end: date
    target: Decimal
    unit: Decimal
    currency: str | None
    status: str
    method: str
    rationale: str | None
    budget: Decimal | None
    headcount: int | None
    milestones: list[MilestonePublic]
    derived_from_id: str | None
    plan_id: str | None
    version: int
    updated_at: datetime

    @field_serializer("target", "unit", when_used="json")
    def _write_figure(self, value: Decimal) -> DecimalText:
        return write_figure(value, metric_kind(self.metric), self.currency)

    @field_serializer("budget", when_used="json")
    def _write_budget(self, budget: Decimal | None) -> DecimalText | None:
        return None if budget is None else write_money(budget, self.currency)

    @field_serializer("milestones", when_used="json")
    def _write_milestones(self, milestones: list[MilestonePublic]) -> list[dict[str, str]]:
        kind = metric_kind(self.metric)
        return [
            {
                "on": m.on.isoformat(),
                "cumulative_target": write_figure(m.cumulative_target, kind, self.currency),
            }
            for m in milestones
        ]


class FindingPublic(BaseModel):
    severity: Literal["error", "warning"]
    code: str
    field: str
    message: str


class GoalWritten(BaseModel):
    goal: GoalPublic
    warnings: list[FindingPublic]


class GoalList(Page[GoalPublic]):
    goals: list[GoalPublic] = Field(
        deprecated=True, description="the same as `data`, from before every list had one envelope"
    )


class VersionPublic(BaseModel):
    version: int
    # The version does not name the goal's metric: written as money is when its
    # currency is not known.
    target: MoneyString
    previous_target: MoneyString | None
    status: str
    owner_id: str
    fields: list[str]
    changed_by: str
    changed_at: datetime
    reason: str | None
    plan_id: str | None


class GoalHistory(BaseModel):
    goal_id: str
    versions: list[VersionPublic]


class ProductLinePublic(BaseModel):
    id: str
    name: str
    maturity: str
    version: int
    updated_at: datetime


class CalendarPublic(BaseModel):
    timezone: str
    fiscal_year_start_month: int
    holidays: list[date]
    working_weekends: list[date]
    growth_ceiling: RatioString
    version: int


class OrgUnitList(Page[OrgUnitPublic]):
    """Root first."""


class ProductLineList(Page[ProductLinePublic]):
    """By id."""


class MetricPublic(BaseModel):
    key: str
    kind: str
    money: bool
    direction: str


class MetricList(Page[MetricPublic]):
    """What a goal can measure (DOMAIN.md §2), how it adds up, and which way is good."""
