"""Goals: one metric, one scope, one period, one target, exactly one owner.
Every create and change passes the SMART check; every change is a version.
The caller commits."""

from collections.abc import Collection
from uuid import uuid4

from attain_contracts import Period
from attain_contracts.calendar import FiscalCalendar, UnknownPeriodKey
from goal_service.clients.tracking import TrackingClient
from goal_service.domain import smart
from goal_service.domain.metrics import CATALOG
from goal_service.service_layer import goal_writes, history
from goal_service.service_layer.inputs import GoalArchive, GoalChange, GoalCreate
from goal_service.service_layer.visibility import sees_goal, visibility, visible_goal
from goal_service.settings import GoalSettings
from goal_service.store import GoalStore
from goal_service.store.tables import Goal, GoalVersion
from servicekit.auth import Principal
from servicekit.errors import Clash, FieldError, Missing
from servicekit.uow import UnitOfWork


class DuplicateGoal(Clash):
    """One target per metric, scope, period and parent: a second would split
    what one owner answers for."""

    def __init__(self, existing: Goal) -> None:
        super().__init__(
            f"goal {existing.id} already sets {existing.metric} for this scope and period; "
            "change its target instead",
            field="period_key",
        )
        self.existing = existing


async def add(
    uow: UnitOfWork[GoalStore],
    body: GoalCreate,
    tracking: TrackingClient,
    settings: GoalSettings,
    *,
    actor: str,
) -> tuple[Goal, list[smart.Finding]]:
    """Check one new goal (references, then SMART) and write its first version and
    event. Every check comes before the first write, so a refusal leaves nothing
    behind. Returns the goal and the SMART findings, all warnings."""
    store = uow.store
    calendar = await store.org.calendar(settings.timezone)
    metric = CATALOG.get(body.metric)
    if metric is None:
        raise FieldError("metric", f"unknown metric {body.metric}; known: {', '.join(CATALOG)}")
    period = _period(body, calendar)
    if await store.org.unit(body.org_unit_id) is None:
        raise FieldError("org_unit_id", f"no org unit {body.org_unit_id}")
    if body.owner_id is None:
        raise FieldError("owner_id", "a goal needs exactly one owner")
    await _check_people(store, body.owner_id, body.contributors)
    if body.person_id is not None and await store.org.person(body.person_id) is None:
        raise FieldError("person_id", f"no person {body.person_id}")
    if body.product_line is not None and await store.org.product_line(body.product_line) is None:
        raise FieldError("product_line", f"no product line {body.product_line}")
    parent = None
    if body.parent_id is not None:
        parent = await store.goals.goal(body.parent_id)
        if parent is None:
            raise FieldError("parent_id", f"no goal {body.parent_id}")
    same = await store.goals.same(
        metric=metric.key,
        org_unit_id=body.org_unit_id,
        person_id=body.person_id,
        product_line=body.product_line,
        period=period,
        parent_id=body.parent_id,
    )
    if same is not None:
        raise DuplicateGoal(same)
    goal = Goal(
        id=f"goal_{uuid4().hex[:16]}",
        parent_id=body.parent_id,
        metric=metric.key,
        direction=metric.direction,
        org_unit_id=body.org_unit_id,
        person_id=body.person_id,
        owner_id=body.owner_id,
        contributors=body.contributors or [],
        product_line=body.product_line,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        target=body.target,
        unit=body.unit,
        currency=body.currency or (settings.base_currency if metric.money else None),
        status=body.status,
        method="manual",
        rationale=body.rationale,
        budget=body.budget,
        headcount=body.headcount,
        milestones=_milestones(body, period),
        created_by=actor,
        updated_at=uow.clock.now(),
    )
    findings = await history.smart_findings(store, tracking, goal, parent)
    _refuse_errors(findings)
    await goal_writes.add(uow, [goal], actor=actor, reason="created", timezone=calendar.timezone)
    return goal, findings


async def change(
    uow: UnitOfWork[GoalStore],
    goal_id: str,
    body: GoalChange,
    tracking: TrackingClient,
    settings: GoalSettings,
    *,
    actor: str,
) -> tuple[Goal, list[smart.Finding]]:
    store = uow.store
    goal = await store.goals.for_update(goal_id)
    if goal is None:
        raise Missing(f"no goal {goal_id}")
    if goal.status in ("closed", "cancelled"):
        raise Clash(f"goal {goal_id} is {goal.status}; it can no longer change")
    changes = body.model_dump(exclude_unset=True, exclude={"reason", "milestones"})
    if body.milestones is not None:
        changes["milestones"] = _milestones(
            body, Period(start=goal.period_start, end=goal.period_end)
        )
    if "owner_id" in changes and changes["owner_id"] is None:
        raise FieldError("owner_id", "a goal needs exactly one owner")
    if body.owner_id is not None or body.contributors is not None:
        await _check_people(store, body.owner_id or goal.owner_id, body.contributors)
    retargeted = body.target is not None and body.target != goal.target
    if retargeted and goal.status == "active" and not body.reason:
        raise FieldError("reason", "say why an active goal's target changes")
    calendar = await store.org.calendar(settings.timezone)
    parent = await store.goals.goal(goal.parent_id) if goal.parent_id else None
    after = goal.model_copy(update=changes)
    findings = await history.smart_findings(store, tracking, after, parent)
    _refuse_errors(findings)
    goal_writes.change(
        uow, goal, actor=actor, reason=body.reason, timezone=calendar.timezone, **changes
    )
    return goal, findings


async def archive(
    uow: UnitOfWork[GoalStore], goal_id: str, body: GoalArchive, *, actor: str
) -> Goal:
    goal = await uow.store.goals.for_update(goal_id)
    if goal is None:
        raise Missing(f"no goal {goal_id}")
    if goal.status in ("closed", "cancelled"):
        raise Clash(f"goal {goal_id} is already {goal.status}")
    goal_writes.archive(uow, goal, status=body.status, actor=actor, reason=body.reason)
    return goal


async def one(store: GoalStore, principal: Principal, goal_id: str) -> Goal:
    return await visible_goal(store, principal, goal_id)


async def page(
    store: GoalStore,
    principal: Principal,
    filters: dict[str, str | None],
    *,
    after: str | None,
    limit: int,
) -> tuple[list[Goal], int, bool]:
    """The caller's scope is applied in the query, so the page, the count and the
    cursor are all of goals they may see."""
    seen = await visibility(store, principal)
    return await store.goals.page(
        filters,
        visible_to=None if seen.everything else (seen.person_id, seen.managed),
        after=after,
        limit=limit,
    )


async def versions(store: GoalStore, principal: Principal, goal_id: str) -> list[GoalVersion]:
    await visible_goal(store, principal, goal_id)
    return await store.goals.versions(goal_id)


async def tree(store: GoalStore, principal: Principal, goal_id: str) -> list[Goal]:
    """The goal and every goal below it that the caller may see."""
    root = await visible_goal(store, principal, goal_id)
    seen = await visibility(store, principal)
    below = [g for g in await store.goals.descendants(goal_id) if await sees_goal(store, seen, g)]
    return [root, *below]


def _period(body: GoalCreate, calendar: FiscalCalendar) -> Period:
    if body.period_key is not None:
        try:
            return calendar.period(body.period_key)
        except UnknownPeriodKey as error:
            raise FieldError("period_key", str(error)) from error
    assert body.period_start is not None and body.period_end is not None
    if body.period_end < body.period_start:
        raise FieldError("period_end", "the period ends before it starts")
    return Period(
        key=calendar.key_of(body.period_start, body.period_end),
        start=body.period_start,
        end=body.period_end,
    )


def _milestones(body: GoalCreate | GoalChange, period: Period) -> list[dict[str, str]]:
    milestones = sorted(body.milestones or [], key=lambda m: m.on)
    for index, milestone in enumerate(milestones):
        if not period.start <= milestone.on <= period.end:
            raise FieldError(
                f"milestones.{index}.on",
                f"milestone on {milestone.on} lies outside the goal's period",
            )
        if index and milestone.cumulative_target < milestones[index - 1].cumulative_target:
            raise FieldError(
                f"milestones.{index}.cumulative_target",
                "milestones are cumulative: each at least the one before",
            )
    return [
        {"on": m.on.isoformat(), "cumulative_target": str(m.cumulative_target)} for m in milestones
    ]


async def _check_people(
    store: GoalStore, owner_id: str, contributors: Collection[str] | None
) -> None:
    if await store.org.person(owner_id) is None:
        raise FieldError("owner_id", f"no person {owner_id} to own the goal")
    for index, person_id in enumerate(contributors or []):
        if person_id == owner_id:
            raise FieldError(
                f"contributors.{index}",
                "the owner is not also a contributor: ownership is never shared",
            )
        if await store.org.person(person_id) is None:
            raise FieldError(f"contributors.{index}", f"no person {person_id}")


def _refuse_errors(findings: list[smart.Finding]) -> None:
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise FieldError(
            errors[0].field,
            "; ".join(f.message for f in errors),
            errors=[{"field": f.field, "code": f.code, "message": f.message} for f in errors],
        )
