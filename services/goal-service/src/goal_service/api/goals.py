"""Goals: one metric, one scope, one period, one target, exactly one owner.
Every create and change passes the SMART check; every change is a version."""

from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from attain_contracts import Period
from attain_contracts.calendar import FiscalCalendar, UnknownPeriodKey
from goal_service.api import history
from goal_service.api.deps import SettingsDep, TrackingDep
from goal_service.api.models import (
    FindingPublic,
    GoalArchive,
    GoalChange,
    GoalCreate,
    GoalHistory,
    GoalList,
    GoalPublic,
    GoalWritten,
    MetricList,
    MetricPublic,
    VersionPublic,
)
from goal_service.api.visibility import sees_goal, visibility, visible_goal
from goal_service.domain import smart
from goal_service.domain.metrics import CATALOG
from goal_service.settings import GoalSettings
from goal_service.store import goals, queries
from goal_service.store.tables import Goal
from goal_service.tracking import TrackingClient
from servicekit.app import UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Role, require_roles
from servicekit.paging import PagingDep, page_of
from servicekit.problems import Conflict, InvalidInput, NotFound
from servicekit.uow import UnitOfWork

router = APIRouter(tags=["goals"])


class DuplicateGoal(Conflict):
    """One target per metric, scope, period and parent: a second would split
    what one owner answers for."""

    def __init__(self, existing: Goal) -> None:
        super().__init__(
            f"goal {existing.id} already sets {existing.metric} for this scope and period; "
            "change its target instead",
            field="period_key",
        )
        self.existing = existing


can_shape = require_roles(Role.ADMIN, Role.PLANNER)
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP, Role.VIEWER)


@router.post(
    "/goals",
    status_code=status.HTTP_201_CREATED,
    dependencies=[can_shape],
    response_model=GoalWritten,
)
async def create_goal(
    body: GoalCreate,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    tracking: TrackingDep,
    principal: CurrentPrincipal,
) -> GoalWritten:
    goal, findings = await add_goal(uow, body, tracking, settings, actor=principal.subject)
    await uow.commit()
    return _written(goal, findings)


async def add_goal(
    uow: UnitOfWork,
    body: GoalCreate,
    tracking: TrackingClient,
    settings: GoalSettings,
    *,
    actor: str,
) -> tuple[Goal, list[smart.Finding]]:
    """Check one new goal (references, then SMART) and write its first version and
    event; the caller commits. Every check comes before the first write, so a
    refusal leaves nothing behind. Returns the goal and the SMART findings, all
    warnings."""
    session = uow.session
    calendar = await queries.calendar(session, settings.timezone)
    metric = CATALOG.get(body.metric)
    if metric is None:
        raise InvalidInput(
            f"unknown metric {body.metric}; known: {', '.join(CATALOG)}", field="metric"
        )
    period = _period(body, calendar)
    if await queries.org_unit(session, body.org_unit_id) is None:
        raise InvalidInput(f"no org unit {body.org_unit_id}", field="org_unit_id")
    if body.owner_id is None:
        raise InvalidInput("a goal needs exactly one owner", field="owner_id")
    await _check_people(session, body.owner_id, body.contributors)
    if body.person_id is not None and await queries.person(session, body.person_id) is None:
        raise InvalidInput(f"no person {body.person_id}", field="person_id")
    if (
        body.product_line is not None
        and await queries.product_line(session, body.product_line) is None
    ):
        raise InvalidInput(f"no product line {body.product_line}", field="product_line")
    parent = None
    if body.parent_id is not None:
        parent = await queries.goal(session, body.parent_id)
        if parent is None:
            raise InvalidInput(f"no goal {body.parent_id}", field="parent_id")
    same = await queries.same_goal(
        session,
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
    findings = await history.smart_findings(session, tracking, goal, parent)
    _refuse_errors(findings)
    await goals.add(uow, [goal], actor=actor, reason="created", timezone=calendar.timezone)
    return goal, findings


@router.get("/catalog/metrics", dependencies=[can_read], response_model=MetricList)
async def metrics_catalog(paging: PagingDep) -> MetricList:
    """What a goal can measure (DOMAIN.md §2), how it adds up, and which way is good."""
    page = page_of(list(CATALOG.values()), paging, key=lambda m: m.key)
    return MetricList(
        data=[
            MetricPublic(key=m.key, kind=m.kind, money=m.money, direction=m.direction)
            for m in page.data
        ],
        count=page.count,
        next_after=page.next_after,
    )


@router.get("/goals/{goal_id}", dependencies=[can_read], response_model=GoalPublic)
async def get_goal(goal_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal) -> Goal:
    return await visible_goal(uow.session, principal, goal_id)


@router.get("/goals", dependencies=[can_read], response_model=GoalList)
async def list_goals(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    owner_id: str | None = None,
    org_unit_id: Annotated[str | None, Query(description="goals of this unit only")] = None,
    parent_id: str | None = None,
    metric: str | None = None,
    period_key: str | None = None,
    status_is: Annotated[str | None, Query(alias="status")] = None,
) -> GoalList:
    """In id order; the caller's scope is applied in the query, so the page, the
    count and the cursor are all of goals they may see."""
    seen = await visibility(uow.session, principal)
    page, total, more = await queries.goals_page(
        uow.session,
        {
            "owner_id": owner_id,
            "org_unit_id": org_unit_id,
            "parent_id": parent_id,
            "metric": metric,
            "period_key": period_key,
            "status": status_is,
        },
        visible_to=None if seen.everything else (seen.person_id, seen.managed),
        after=paging.after,
        limit=paging.limit,
    )
    return _goal_list(page, total, page[-1].id if more else None)


@router.patch("/goals/{goal_id}", dependencies=[can_shape], response_model=GoalWritten)
async def change_goal(
    goal_id: str,
    body: GoalChange,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    tracking: TrackingDep,
    principal: CurrentPrincipal,
) -> GoalWritten:
    session = uow.session
    goal = await queries.goal_for_update(session, goal_id)
    if goal is None:
        raise NotFound(f"no goal {goal_id}")
    if goal.status in ("closed", "cancelled"):
        raise Conflict(f"goal {goal_id} is {goal.status}; it can no longer change")
    changes = body.model_dump(exclude_unset=True, exclude={"reason", "milestones"})
    if body.milestones is not None:
        changes["milestones"] = _milestones(
            body, Period(start=goal.period_start, end=goal.period_end)
        )
    if "owner_id" in changes and changes["owner_id"] is None:
        raise InvalidInput("a goal needs exactly one owner", field="owner_id")
    if body.owner_id is not None or body.contributors is not None:
        await _check_people(session, body.owner_id or goal.owner_id, body.contributors)
    retargeted = body.target is not None and body.target != goal.target
    if retargeted and goal.status == "active" and not body.reason:
        raise InvalidInput("say why an active goal's target changes", field="reason")
    calendar = await queries.calendar(session, settings.timezone)
    parent = await queries.goal(session, goal.parent_id) if goal.parent_id else None
    after = goal.model_copy(update=changes)
    findings = await history.smart_findings(session, tracking, after, parent)
    _refuse_errors(findings)
    goals.change(
        uow,
        goal,
        actor=principal.subject,
        reason=body.reason,
        timezone=calendar.timezone,
        **changes,
    )
    await uow.commit()
    return _written(goal, findings)


@router.post("/goals/{goal_id}/archive", dependencies=[can_shape], response_model=GoalPublic)
async def archive_goal(
    goal_id: str, body: GoalArchive, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Goal:
    goal = await queries.goal_for_update(uow.session, goal_id)
    if goal is None:
        raise NotFound(f"no goal {goal_id}")
    if goal.status in ("closed", "cancelled"):
        raise Conflict(f"goal {goal_id} is already {goal.status}")
    goals.archive(uow, goal, status=body.status, actor=principal.subject, reason=body.reason)
    await uow.commit()
    return goal


@router.get("/goals/{goal_id}/history", dependencies=[can_read], response_model=GoalHistory)
async def goal_history(
    goal_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> GoalHistory:
    await visible_goal(uow.session, principal, goal_id)
    return GoalHistory(
        goal_id=goal_id,
        versions=[
            VersionPublic.model_validate(v, from_attributes=True)
            for v in await queries.versions(uow.session, goal_id)
        ],
    )


@router.get("/goals/{goal_id}/tree", dependencies=[can_read], response_model=GoalList)
async def goal_tree(goal_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal) -> GoalList:
    """The goal and every goal below it that the caller may see."""
    session = uow.session
    root = await visible_goal(session, principal, goal_id)
    seen = await visibility(session, principal)
    below = [
        g for g in await queries.descendants(session, goal_id) if await sees_goal(session, seen, g)
    ]
    return _goal_list([root, *below], len(below) + 1, None)


def _goal_list(found: list[Goal], count: int, next_after: str | None) -> GoalList:
    public = [GoalPublic.model_validate(g, from_attributes=True) for g in found]
    return GoalList(data=public, goals=public, count=count, next_after=next_after)


def _period(body: GoalCreate, calendar: FiscalCalendar) -> Period:
    if body.period_key is not None:
        try:
            return calendar.period(body.period_key)
        except UnknownPeriodKey as error:
            raise InvalidInput(str(error), field="period_key") from error
    assert body.period_start is not None and body.period_end is not None
    if body.period_end < body.period_start:
        raise InvalidInput("the period ends before it starts", field="period_end")
    return Period(
        key=calendar.key_of(body.period_start, body.period_end),
        start=body.period_start,
        end=body.period_end,
    )


def _milestones(body: GoalCreate | GoalChange, period: Period) -> list[dict[str, str]]:
    milestones = sorted(body.milestones or [], key=lambda m: m.on)
    for index, milestone in enumerate(milestones):
        if not period.start <= milestone.on <= period.end:
            raise InvalidInput(
                f"milestone on {milestone.on} lies outside the goal's period",
                field=f"milestones.{index}.on",
            )
        if index and milestone.cumulative_target < milestones[index - 1].cumulative_target:
            raise InvalidInput(
                "milestones are cumulative: each at least the one before",
                field=f"milestones.{index}.cumulative_target",
            )
    return [
        {"on": m.on.isoformat(), "cumulative_target": str(m.cumulative_target)} for m in milestones
    ]


async def _check_people(
    session: AsyncSession, owner_id: str, contributors: list[str] | None
) -> None:
    if await queries.person(session, owner_id) is None:
        raise InvalidInput(f"no person {owner_id} to own the goal", field="owner_id")
    for index, person_id in enumerate(contributors or []):
        if person_id == owner_id:
            raise InvalidInput(
                "the owner is not also a contributor: ownership is never shared",
                field=f"contributors.{index}",
            )
        if await queries.person(session, person_id) is None:
            raise InvalidInput(f"no person {person_id}", field=f"contributors.{index}")


def _refuse_errors(findings: list[smart.Finding]) -> None:
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise InvalidInput(
            "; ".join(f.message for f in errors),
            field=errors[0].field,
            errors=[{"field": f.field, "code": f.code, "message": f.message} for f in errors],
        )


def _written(goal: Goal, findings: list[smart.Finding]) -> GoalWritten:
    return GoalWritten(
        goal=GoalPublic.model_validate(goal, from_attributes=True), warnings=warnings(findings)
    )


def warnings(findings: list[smart.Finding]) -> list[FindingPublic]:
    return [FindingPublic(**vars(f)) for f in findings if f.severity == "warning"]
