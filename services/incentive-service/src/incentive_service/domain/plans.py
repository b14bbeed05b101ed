"""The terms of one plan version (DOMAIN.md §7): the components a statement is
priced with. The models check each value's shape; `plan_problems` checks how
the values fit together, so that each problem names the field it is about."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from servicekit.inputs import TEXT_MAX_LENGTH

ComponentId = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
NonNegative = Annotated[Decimal, Field(ge=0)]
Fraction = Annotated[Decimal, Field(ge=0, le=1)]
# Amounts paid as they stand must be whole cents: a team pool is split into
# cent shares that add up to it exactly, which only works for a pool in cents.
Money = Annotated[Decimal, Field(ge=0, decimal_places=2)]
PositiveMoney = Annotated[Decimal, Field(gt=0, decimal_places=2)]


class _Terms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=TEXT_MAX_LENGTH)


class Tier(_Terms):
    """Attainment from `floor` (inclusive) to `ceiling` (exclusive, open when None)."""

    floor: NonNegative
    ceiling: NonNegative | None
    rate: Fraction


class Commission(_Terms):
    kind: Literal["commission"]
    id: ComponentId
    method: Literal["marginal", "retroactive"]
    tiers: list[Tier] = Field(min_length=1)


class CurvePoint(_Terms):
    attainment: NonNegative
    payout: NonNegative


class AttainmentBonus(_Terms):
    kind: Literal["attainment_bonus"]
    id: ComponentId
    target_incentive: PositiveMoney
    curve: list[CurvePoint] = Field(min_length=1)
    gate: NonNegative = Decimal(0)
    cap: NonNegative | None = None


class ThresholdBonus(_Terms):
    kind: Literal["threshold_bonus"]
    id: ComponentId
    threshold: NonNegative
    percent_of_commission: NonNegative | None = None
    amount: Money | None = None


class Spiff(_Terms):
    kind: Literal["spiff"]
    id: ComponentId
    product_line: str | None = Field(default=None, min_length=1)
    min_amount: Money | None = None
    window_from: date
    window_to: date
    amount: Money | None = None
    rate: Fraction | None = None


class TeamBonus(_Terms):
    kind: Literal["team_bonus"]
    id: ComponentId
    pool: PositiveMoney
    threshold: NonNegative
    split: Literal["equal", "contribution"]


Component = Annotated[
    Commission | AttainmentBonus | ThresholdBonus | Spiff | TeamBonus, Field(discriminator="kind")
]


class PlanTerms(_Terms):
    components: list[Component] = Field(min_length=1)
    clawback_days: int = Field(default=90, ge=0, le=3650)


@dataclass(frozen=True)
class PlanProblem:
    field: str
    code: str
    reason: str


def plan_problems(terms: PlanTerms) -> list[PlanProblem]:
    """Every way the components fail to fit together; empty when the terms are valid."""
    has_commission = any(isinstance(c, Commission) for c in terms.components)
    first_with_id: dict[str, int] = {}
    first_commission: int | None = None
    problems: list[PlanProblem] = []
    for index, component in enumerate(terms.components):
        at = f"components.{index}"
        if component.id in first_with_id:
            problems.append(
                PlanProblem(
                    f"{at}.id",
                    "duplicate_id",
                    f"id {component.id!r} is already used by component"
                    f" {first_with_id[component.id]}",
                )
            )
        else:
            first_with_id[component.id] = index
        match component:
            case Commission():
                if first_commission is None:
                    first_commission = index
                else:
                    problems.append(
                        PlanProblem(
                            at,
                            "one_commission",
                            f"a plan has at most one commission; component {first_commission}"
                            " is one already",
                        )
                    )
                problems.extend(tier_problems(component.tiers, f"{at}.tiers"))
            case AttainmentBonus():
                problems.extend(curve_problems(component.curve, f"{at}.curve"))
                if component.cap is not None and component.cap < component.gate:
                    problems.append(
                        PlanProblem(
                            f"{at}.cap",
                            "cap_below_gate",
                            f"the cap {percent(component.cap)} is below the gate"
                            f" {percent(component.gate)}",
                        )
                    )
            case ThresholdBonus():
                problems.extend(
                    _one_of(
                        at,
                        component.amount,
                        component.percent_of_commission,
                        "percent_of_commission",
                    )
                )
                if component.percent_of_commission is not None and not has_commission:
                    problems.append(
                        PlanProblem(
                            f"{at}.percent_of_commission",
                            "needs_commission",
                            "a bonus in percent of commission needs a commission component",
                        )
                    )
            case Spiff():
                problems.extend(_one_of(at, component.amount, component.rate, "rate"))
                if component.window_to <= component.window_from:
                    problems.append(
                        PlanProblem(
                            f"{at}.window_to",
                            "window_empty",
                            f"the window ends on {component.window_to.isoformat()}, not after it"
                            f" starts on {component.window_from.isoformat()}",
                        )
                    )
    return problems


def tier_problems(tiers: list[Tier], at: str) -> Iterator[PlanProblem]:
    """Tiers must cover attainment from 0 up, each starting where the one before ends."""
    if tiers[0].floor != 0:
        yield PlanProblem(
            f"{at}.0.floor",
            "tiers_start",
            f"the first tier must start at 0%, not at {percent(tiers[0].floor)}",
        )
    for index, tier in enumerate(tiers):
        if tier.ceiling is not None and tier.ceiling <= tier.floor:
            yield PlanProblem(
                f"{at}.{index}.ceiling",
                "tier_empty",
                f"tier {index} ends at {percent(tier.ceiling)}, not above its floor"
                f" {percent(tier.floor)}",
            )
        if index == 0:
            continue
        previous = tiers[index - 1]
        if previous.ceiling is None:
            yield PlanProblem(
                f"{at}.{index - 1}.ceiling",
                "tier_open",
                f"only the last tier may be open, but tier {index - 1} has no ceiling"
                f" and tier {index} follows it",
            )
        elif tier.floor < previous.ceiling:
            yield PlanProblem(
                f"{at}.{index}.floor",
                "tiers_overlap",
                f"tier {index} starts at {percent(tier.floor)}, below the end of tier"
                f" {index - 1} at {percent(previous.ceiling)}",
            )
        elif tier.floor > previous.ceiling:
            yield PlanProblem(
                f"{at}.{index}.floor",
                "tiers_gap",
                f"tier {index} starts at {percent(tier.floor)}, leaving a gap after tier"
                f" {index - 1} ends at {percent(previous.ceiling)}",
            )


def curve_problems(curve: list[CurvePoint], at: str) -> Iterator[PlanProblem]:
    """A curve rises with attainment: more attainment never pays less."""
    for index in range(1, len(curve)):
        previous, point = curve[index - 1], curve[index]
        if point.attainment <= previous.attainment:
            yield PlanProblem(
                f"{at}.{index}.attainment",
                "curve_not_monotone",
                f"point {index} is at {percent(point.attainment)} attainment, not above point"
                f" {index - 1} at {percent(previous.attainment)}",
            )
        if point.payout < previous.payout:
            yield PlanProblem(
                f"{at}.{index}.payout",
                "curve_not_monotone",
                f"point {index} pays {percent(point.payout)}, less than point {index - 1}"
                f" at {percent(previous.payout)}",
            )


def _one_of(
    at: str, amount: Decimal | None, other: Decimal | None, other_name: str
) -> Iterator[PlanProblem]:
    if (amount is None) == (other is None):
        given = "both" if amount is not None else "neither"
        yield PlanProblem(
            f"{at}.amount",
            "one_of",
            f"give exactly one of amount and {other_name}; {given} was given",
        )


def percent(fraction: Decimal) -> str:
    """How a plan's fraction reads: 1.25 is `125%`, 0.125 is `12.5%`."""
    return format((fraction * 100).normalize(), "f") + "%"
