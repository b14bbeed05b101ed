"""What goal-service's use cases are asked to do: the request bodies of its HTTP API
and the rows of its imports, validated on the way in."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from goal_service.domain.smart import GROWTH_CEILING
from servicekit.inputs import InputModel, fits_numeric

# As the goal tables store them.
Amount = Annotated[Decimal, fits_numeric(20, 4)]
CrmKey = Annotated[str, Field(min_length=1, max_length=200)]


class Input(InputModel):
    """Every request body of this service."""


class OrgUnitPut(Input):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="team", min_length=1, max_length=50)
    parent_id: str | None = None
    manager_id: str | None = None


class PersonPut(Input):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    org_unit_id: str
    member_since: date | None = Field(
        default=None, description="when the person joined the org unit; today when omitted"
    )
    maturity: Literal["new", "experienced"] = "experienced"
    hired_on: date | None = Field(
        default=None, description="when the ramp-up starts; the first membership when omitted"
    )
    carries_quota: bool | None = Field(
        default=None,
        description=(
            "whether they carry a quota; when omitted, everyone does except a manager"
            " who belongs to the unit they manage"
        ),
    )
    crm_ids: dict[CrmKey, CrmKey] | None = Field(
        default=None,
        max_length=50,
        description="the person's owner id in each CRM source, by tracking-service's source "
        "id (a HubSpot owner id, a Salesforce user id); kept as they are when omitted",
    )


class MilestoneIn(Input):
    on: date
    cumulative_target: Amount


class GoalFields(Input):
    """What a planner may set on a goal, on create and on change."""

    owner_id: str | None = None
    contributors: list[str] | None = Field(
        default=None, description="people who help; the owner alone answers for the goal"
    )
    rationale: str | None = Field(default=None, description="the levers and actions behind it")
    budget: Amount | None = Field(default=None, ge=0)
    headcount: int | None = Field(default=None, ge=0)
    milestones: list[MilestoneIn] | None = None


class GoalCreate(GoalFields):
    metric: str
    org_unit_id: str
    person_id: str | None = Field(default=None, description="for a person's own target")
    product_line: str | None = None
    parent_id: str | None = None
    period_key: str | None = Field(
        default=None, description="FY2026, FY2026-H1, FY2026-Q1, 2026-03 or 2026-W09"
    )
    period_start: date | None = None
    period_end: date | None = None
    target: Amount
    unit: Amount = Field(default=Decimal(1), gt=0, description="targets round to this")
    currency: str | None = Field(default=None, pattern="^[A-Z]{3}$")
    status: Literal["draft", "active"] = "active"

    @model_validator(mode="after")
    def _one_way_to_name_the_period(self) -> "GoalCreate":
        explicit = self.period_start is not None or self.period_end is not None
        if self.period_key is None and not (self.period_start and self.period_end):
            raise ValueError("give period_key, or both period_start and period_end")
        if self.period_key is not None and explicit:
            raise ValueError("give period_key or explicit dates, not both")
        return self


class GoalChange(GoalFields):
    target: Amount | None = None
    status: Literal["draft", "active"] | None = None
    reason: str | None = Field(
        default=None, max_length=2000, description="why; required to change an active target"
    )


class GoalArchive(Input):
    status: Literal["closed", "cancelled"]
    reason: str | None = Field(default=None, max_length=2000)


class ProductLinePut(Input):
    name: str = Field(min_length=1, max_length=200)
    maturity: Literal["new", "mature"] = "mature"


class CalendarPut(Input):
    timezone: str = Field(description="IANA time zone, e.g. Asia/Shanghai")
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    holidays: list[date] = []
    working_weekends: list[date] = Field(
        default=[],
        description="Saturdays and Sundays worked in exchange for a holiday (China's 调休)",
    )
    growth_ceiling: Annotated[Decimal, fits_numeric(10, 4)] = Field(
        default=GROWTH_CEILING, ge=0, description="SMART warns above this growth over last year"
    )
