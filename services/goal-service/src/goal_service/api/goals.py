"""Goals over HTTP (the use cases are `service_layer.goals`)."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, status

from goal_service.api.dependencies import Settings, Tracking, Uow
from goal_service.api.models import (
    FindingPublic,
    GoalHistory,
    GoalList,
    GoalPublic,
    GoalWritten,
    MetricList,
    MetricPublic,
    VersionPublic,
)
from goal_service.domain import smart
from goal_service.domain.metrics import CATALOG
from goal_service.service_layer import goals
from goal_service.service_layer.inputs import GoalArchive, GoalChange, GoalCreate
from servicekit import roles
from servicekit.auth import CurrentPrincipal
from servicekit.paging import PagingDep, page_of

router = APIRouter(tags=["goals"])


@router.post(
    "/goals",
    status_code=status.HTTP_201_CREATED,
    dependencies=[roles.shapers],
    response_model=GoalWritten,
)
async def create_goal(
    body: GoalCreate,
    uow: Uow,
    settings: Settings,
    tracking: Tracking,
    principal: CurrentPrincipal,
) -> GoalWritten:
    goal, findings = await goals.add(uow, body, tracking, settings, actor=principal.subject)
    await uow.commit()
    return written(goal, findings)


@router.get("/catalog/metrics", dependencies=[roles.people], response_model=MetricList)
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


@router.get("/goals/{goal_id}", dependencies=[roles.people], response_model=GoalPublic)
async def get_goal(goal_id: str, uow: Uow, principal: CurrentPrincipal) -> GoalPublic:
    return public(await goals.one(uow.store, principal, goal_id))


@router.get("/goals", dependencies=[roles.people], response_model=GoalList)
async def list_goals(
    uow: Uow,
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
    page, total, more = await goals.page(
        uow.store,
        principal,
        {
            "owner_id": owner_id,
            "org_unit_id": org_unit_id,
            "parent_id": parent_id,
            "metric": metric,
            "period_key": period_key,
            "status": status_is,
        },
        after=paging.after,
        limit=paging.limit,
    )
    return _goal_list(page, total, page[-1].id if more else None)


@router.patch("/goals/{goal_id}", dependencies=[roles.shapers], response_model=GoalWritten)
async def change_goal(
    goal_id: str,
    body: GoalChange,
    uow: Uow,
    settings: Settings,
    tracking: Tracking,
    principal: CurrentPrincipal,
) -> GoalWritten:
    goal, findings = await goals.change(
        uow, goal_id, body, tracking, settings, actor=principal.subject
    )
    await uow.commit()
    return written(goal, findings)


@router.post("/goals/{goal_id}/archive", dependencies=[roles.shapers], response_model=GoalPublic)
async def archive_goal(
    goal_id: str, body: GoalArchive, uow: Uow, principal: CurrentPrincipal
) -> GoalPublic:
    goal = await goals.archive(uow, goal_id, body, actor=principal.subject)
    await uow.commit()
    return public(goal)


@router.get("/goals/{goal_id}/history", dependencies=[roles.people], response_model=GoalHistory)
async def goal_history(goal_id: str, uow: Uow, principal: CurrentPrincipal) -> GoalHistory:
    return GoalHistory(
        goal_id=goal_id,
        versions=[
            VersionPublic.model_validate(v, from_attributes=True)
            for v in await goals.versions(uow.store, principal, goal_id)
        ],
    )


@router.get("/goals/{goal_id}/tree", dependencies=[roles.people], response_model=GoalList)
async def goal_tree(goal_id: str, uow: Uow, principal: CurrentPrincipal) -> GoalList:
    """The goal and every goal below it that the caller may see."""
    found = await goals.tree(uow.store, principal, goal_id)
    return _goal_list(found, len(found), None)


def public(goal: object) -> GoalPublic:
    return GoalPublic.model_validate(goal, from_attributes=True)


def written(goal: object, findings: list[smart.Finding]) -> GoalWritten:
    return GoalWritten(goal=public(goal), warnings=warnings(findings))


def warnings(findings: list[smart.Finding]) -> list[FindingPublic]:
    return [FindingPublic(**vars(f)) for f in findings if f.severity == "warning"]


def _goal_list(found: Sequence[object], count: int, next_after: str | None) -> GoalList:
    public_goals = [public(g) for g in found]
    return GoalList(data=public_goals, goals=public_goals, count=count, next_after=next_after)
