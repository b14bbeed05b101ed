"""What a planner asks for: a plan is a list of steps, each applied to every goal
the step before produced (the first to the goal itself). One request can take a
company goal to regions, teams and reps, then to months and weeks."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from attain_contracts.calendar import Grain
from servicekit.inputs import InputModel


class Step(InputModel):
    """What every step of a plan shares: it is request input."""


class Window(Step):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


WeightMethod = Literal["equal", "given", "history", "potential", "capacity", "blend"]


class Weighting(Step):
    method: WeightMethod = "equal"
    weights: dict[str, Decimal] | None = Field(
        default=None,
        description="per child id: the weights (given) or potentials (potential, blend)",
    )
    reference: Window | None = Field(
        default=None, description="history window; default the same period a year earlier"
    )
    alpha: Decimal | None = Field(default=None, description="blend: the weight of history")
    stretch: Decimal = Field(default=Decimal(1), gt=0, description="children sum to target x s")
    floors: dict[str, Decimal] = {}
    caps: dict[str, Decimal] = {}


class OrgStep(Weighting):
    """Top-down over the org (DOMAIN.md §5.1): to the child units of the goal's
    unit, each owned by its manager, or to the unit's people, each owning theirs."""

    kind: Literal["org"]
    to: Literal["auto", "units", "people"] = Field(
        default="auto", description="auto: child units where there are any, else people"
    )


class ProductLineStep(Weighting):
    """Top-down over product lines (§5.3); the owner stays the goal's owner."""

    kind: Literal["product_line"]
    lines: list[str] | None = Field(default=None, description="default: every product line")


class Profile(Step):
    kind: Literal["percentages", "last_year", "working_days", "calendar_days"]
    months: list[Decimal] | None = Field(
        default=None,
        description="percentages: 12 numbers from the fiscal year's first month, summing to 100",
    )


class TimeStep(Step):
    """Time split (§5.2); the split also becomes the goal's milestones."""

    kind: Literal["time"]
    grains: list[Grain] = Field(min_length=1)
    profile: Profile = Profile(kind="working_days")


class ReconcileStep(Step):
    """Hybrid reconciliation (§5.5) of the children's bottom-up proposals with
    top-down shares; a child without a proposal counts its top-down share."""

    kind: Literal["reconcile"]
    policy: Literal["scale", "gap_by_weight", "max"]
    to: Literal["auto", "units", "people"] = "auto"
    top_down: Weighting = Weighting()
    threshold: Decimal = Field(default=Decimal("0.2"), ge=0)


class FunnelRates(Step):
    """A scope's funnel rates given by the planner, for a scope with no history
    to read them from (a new market)."""

    avg_deal_size: Decimal = Field(gt=0, lt=Decimal("1e15"), description="revenue per won deal")
    win_rate: Decimal = Field(gt=0, le=1, description="won / (won + lost)")
    lead_conversion: Decimal = Field(
        gt=0, le=1000, description="opportunities created / leads created"
    )
    activities_per_opportunity: Decimal = Field(gt=0, le=1_000_000)
    sales_cycle_days: Decimal = Field(
        default=Decimal(0), ge=0, le=3660, description="how much earlier the pipeline is built"
    )


class FunnelStep(Step):
    """Funnel reverse derivation (§5.6) from a revenue goal."""

    kind: Literal["funnel"]
    process_goals: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="auto: new reps, new product lines, and goals of a unit (a team, a region)",
    )
    grains: list[Grain] = Field(default=["month", "week"], description="for process goals")
    reference: Window | None = Field(default=None, description="default: the year before")
    min_deals: int | None = Field(default=None, ge=1)
    rates: FunnelRates | None = Field(
        default=None, description="use these instead of the history (a scope without one)"
    )


class Driver(Step):
    metric: str
    baseline: Decimal = Field(gt=0)
    target: Decimal | None = Field(default=None, gt=0)
    weight: Decimal | None = Field(default=None, ge=0)
    owner_id: str
    places: int = Field(default=4, ge=0, le=8)


class LeversStep(Step):
    """Growth levers (§5.7): the goal's target as a product of drivers."""

    kind: Literal["levers"]
    mode: Literal["solve", "spread"]
    drivers: list[Driver] = Field(min_length=1)


PlanStep = Annotated[
    OrgStep | ProductLineStep | TimeStep | ReconcileStep | FunnelStep | LeversStep,
    Field(discriminator="kind"),
]


class PlanRequest(Step):
    steps: list[PlanStep] = Field(min_length=1)
    dry_run: bool = Field(default=True, description="preview only; false applies it")
    include_changes: bool = Field(
        default=True, description="false answers with the summary only (large plans)"
    )
    reason: str | None = Field(default=None, max_length=2000)


class ReplanRequest(Step):
    as_of: date | None = Field(default=None, description="default: today")
    dry_run: bool = True
