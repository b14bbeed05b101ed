"""The SMART check of DOMAIN.md §3, run on every create and change: errors
refuse the goal, warnings are returned with it for the planner to weigh."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from attain_contracts import Period
from attain_contracts.calendar import within
from servicekit.money import round_half_up

# Warn above this growth over the same period last year, unless the calendar
# settings say otherwise.
GROWTH_CEILING = Decimal("0.5")
# Growth above this share is "big" enough to need resources behind it.
GROWTH_NEEDING_RESOURCES = Decimal("0.2")


@dataclass(frozen=True)
class Finding:
    severity: Literal["error", "warning"]
    code: str
    field: str
    message: str


@dataclass(frozen=True)
class Resources:
    budget: Decimal | None
    headcount: int | None


@dataclass(frozen=True)
class History:
    """What the scope did before: the same period a year earlier and its best month."""

    last_year: Decimal | None
    best_month: Decimal | None
    last_year_resources: Resources | None = None


@dataclass(frozen=True)
class Draft:
    owner_id: str | None
    metric_known: bool
    target: Decimal
    period: Period
    parent_period: Period | None
    months: Decimal  # the period's length in months, for run rates
    resources: Resources
    lower_is_better: bool = False


def check(
    draft: Draft,
    *,
    growth_ceiling: Decimal,
    history: History | None = None,
    children_targets: Sequence[Decimal] | None = None,
    adds_up: bool = True,
    stretch: Decimal = Decimal(1),
    unit: Decimal = Decimal(1),
) -> list[Finding]:
    """`children_targets`: the current children of a summable goal, to see that
    they add up (`adds_up` is False for ratios and averages, which never sum)
    to its target x `stretch`, the stretch the split that made them applied
    (DOMAIN.md §5.1), rounded half-up to the goal's `unit` as the split rounds it."""
    findings = [*_errors(draft)]
    if history is not None and not draft.lower_is_better:
        findings += _stretch(draft, history, growth_ceiling)
    if children_targets and adds_up:
        findings += _children(draft.target, children_targets, stretch, unit)
    return findings


def _children(
    target: Decimal, children_targets: Sequence[Decimal], stretch: Decimal, unit: Decimal
) -> list[Finding]:
    total = sum(children_targets, Decimal(0))
    expected = target if stretch == 1 else round_half_up(target * stretch, unit)
    if total == expected:
        return []
    meant = f"{target}" if stretch == 1 else f"{target} x stretch {stretch} = {expected}"
    return [
        Finding(
            "warning",
            "children_do_not_add_up",
            "target",
            f"the children's targets add up to {total}, not {meant}",
        )
    ]


def _errors(draft: Draft) -> list[Finding]:
    found = []
    if not draft.owner_id:
        found.append(Finding("error", "no_owner", "owner_id", "a goal needs exactly one owner"))
    if not draft.metric_known:
        found.append(
            Finding("error", "not_measurable", "metric", "the metric is not in the catalog")
        )
    if draft.target <= 0:
        found.append(Finding("error", "non_positive_target", "target", "a target must be positive"))
    if draft.parent_period is not None and not within(draft.period, draft.parent_period):
        found.append(
            Finding(
                "error",
                "period_outside_parent",
                "period_key" if draft.period.key else "period_start",
                f"{draft.period.start}..{draft.period.end} lies outside the parent's period "
                f"{draft.parent_period.start}..{draft.parent_period.end}",
            )
        )
    return found


def _stretch(draft: Draft, history: History, growth_ceiling: Decimal) -> list[Finding]:
    found = []
    growth = None
    if history.last_year is not None and history.last_year > 0:
        growth = draft.target / history.last_year - 1
        if growth > growth_ceiling:
            found.append(
                Finding(
                    "warning",
                    "growth_above_ceiling",
                    "target",
                    f"needs {growth:.0%} growth over the same period last year "
                    f"({history.last_year}); the ceiling is {growth_ceiling:.0%}",
                )
            )
    if history.best_month is not None and history.best_month > 0 and draft.months > 0:
        run_rate = draft.target / draft.months
        if run_rate > history.best_month:
            found.append(
                Finding(
                    "warning",
                    "above_best_month",
                    "target",
                    f"needs {run_rate:.0f} a month; the best month ever was {history.best_month}",
                )
            )
    if (
        growth is not None
        and growth > GROWTH_NEEDING_RESOURCES
        and not _resources_grew(draft.resources, history.last_year_resources)
    ):
        found.append(
            Finding(
                "warning",
                "growth_without_resources",
                "resources",
                f"{growth:.0%} growth while budget and headcount are flat",
            )
        )
    return found


def _resources_grew(now: Resources, before: Resources | None) -> bool:
    before = before or Resources(None, None)

    def grew(new: Decimal | int | None, old: Decimal | int | None) -> bool:
        return new is not None and (old is None or new > old)

    return grew(now.budget, before.budget) or grew(now.headcount, before.headcount)
