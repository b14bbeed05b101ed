"""Which plan prices a person's period: plans are assigned to people by name, or
to a role (`rep`, `manager`) optionally within an org unit's subtree. The most
specific assignment wins, so a plan for one person overrides the plan for their
region's reps, which overrides the plan for all reps."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

Role = Literal["rep", "manager"]
ROLES: tuple[Role, ...] = ("rep", "manager")


@dataclass(frozen=True)
class Assignee:
    person_id: str
    role: Role
    path: tuple[str, ...]  # their org unit's path, root first; empty when not placed


@dataclass(frozen=True)
class PlanChoice:
    plan_id: str
    period_kind: str
    assignments: Sequence[Mapping[str, Any]]
    versions: tuple[date, ...]  # effective dates, ascending


def specificity(assignment: Mapping[str, Any], who: Assignee) -> tuple[int, int] | None:
    """How closely `assignment` names `who`, or None when it does not apply to them."""
    if assignment.get("person_id") is not None:
        return (3, 0) if assignment["person_id"] == who.person_id else None
    if assignment.get("role") != who.role:
        return None
    unit = assignment.get("org_unit_id")
    if unit is None:
        return (1, 0)
    return (2, who.path.index(unit)) if unit in who.path else None


def version_in_force(versions: Sequence[date], period_start: date) -> date | None:
    """The latest version that took effect on or before the period's first day."""
    return max((day for day in versions if day <= period_start), default=None)


def plan_for(
    plans: Sequence[PlanChoice], who: Assignee, period_kind: str, period_start: date
) -> tuple[PlanChoice, date] | None:
    """The plan and version that price `who`'s period; the plan id breaks a tie
    between equally specific assignments, so the choice never depends on order."""
    candidates = []
    for plan in plans:
        effective = version_in_force(plan.versions, period_start)
        if plan.period_kind != period_kind or effective is None:
            continue
        for assignment in plan.assignments:
            rank = specificity(assignment, who)
            if rank is not None:
                candidates.append(((-rank[0], -rank[1], plan.plan_id), plan, effective))
    if not candidates:
        return None
    _, plan, effective = min(candidates, key=lambda candidate: candidate[0])
    return plan, effective
