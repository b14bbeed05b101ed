"""What alert-service knows of a goal: its copy of the goal and of the newest
progress it applied, and what the rules would read from them at an instant. A
caller compares it with tracking-service's figures to tell whether we have
caught up (before a replay, say)."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from alert_service.service_layer import AlertUnit
from alert_service.service_layer.goal_inputs import goal_facts, time_children
from alert_service.service_layer.visibility import visible_goal
from alert_service.store.tables import Goal, GoalProgress
from attain_contracts.progress import expected_to_date
from servicekit.auth import Principal
from servicekit.clock import local_day


@dataclass(frozen=True)
class GoalCopy:
    goal: Goal
    progress: GoalProgress | None
    day: date
    actual: Decimal
    # A ratio has no share to date: its expected figure is its target.
    expected: Decimal


async def goal_copy(
    uow: AlertUnit, principal: Principal, goal_id: str, as_of: datetime
) -> GoalCopy:
    goal, _ = await visible_goal(uow.store, principal, goal_id)
    progress = await uow.store.progress.one(goal_id)
    rows = await uow.store.goals.with_progress([goal_id])
    children = await time_children(uow.store, {row.goal_id: row for row in rows})
    facts = goal_facts(rows[0], children.get(goal_id, ()))
    day = local_day(as_of, goal.timezone)
    expected = facts.target if facts.is_ratio else expected_to_date(facts.terms, day)
    return GoalCopy(goal, progress, day, facts.actual, expected)
