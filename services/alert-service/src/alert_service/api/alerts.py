"""Alerts, as their owners, their managers and the people who plan see them; and
what owners and managers do with them."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from alert_service import alerting
from alert_service.api.models import (
    AcknowledgeRequest,
    AlertDetailPublic,
    AlertPublic,
    AlertsPublic,
    AttemptPublic,
    DeliveryPublic,
    HistoryPublic,
    SnoozeRequest,
)
from alert_service.api.visibility import may_act, sees_target, visibility, visible_alert
from alert_service.domain.rules import RuleName
from alert_service.store import queries
from alert_service.store.tables import Alert, Delivery, DeliveryAttempt
from attain_contracts.types import Severity
from servicekit.app import UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Principal, Role, require_roles
from servicekit.inputs import Offset
from servicekit.paging import PagingDep
from servicekit.problems import NotFound
from servicekit.uow import UnitOfWork

router = APIRouter(tags=["alerts"])
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP, Role.VIEWER)
can_act = require_roles(Role.ADMIN, Role.MANAGER, Role.REP)


@router.get("/alerts", dependencies=[can_read], response_model=AlertsPublic)
async def list_alerts(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    owner_id: str | None = None,
    org_unit_id: str | None = Query(default=None, description="the unit and its subtree"),
    goal_id: str | None = None,
    rule: RuleName | None = None,
    severity: Severity | None = None,
    status: Literal["open", "acknowledged", "resolved"] | None = None,
    offset: Annotated[Offset, Query(deprecated=True, description="use `after`")] = 0,
) -> AlertsPublic:
    """Newest first."""
    seen = await visibility(uow.session, principal)
    if not seen.everything and seen.person_id is None:
        return AlertsPublic(data=[], count=0)
    alerts, total, more = await queries.alerts(
        uow.session,
        owner_id=owner_id,
        org_unit_id=org_unit_id,
        goal_id=goal_id,
        rule=rule,
        severity=severity,
        status=status,
        visible_to=None if seen.everything else (seen.person_id or "", sorted(seen.managed)),
        after=paging.after,
        limit=paging.limit,
        offset=offset,
    )
    return AlertsPublic(
        data=[AlertPublic.model_validate(a) for a in alerts],
        count=total,
        next_after=alerts[-1].id if more else None,
    )


@router.get("/alerts/{alert_id}", dependencies=[can_read], response_model=AlertDetailPublic)
async def get_alert(
    alert_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> AlertDetailPublic:
    alert, _ = await visible_alert(uow.session, principal, alert_id)
    return await _detail(uow, principal, alert)


@router.post(
    "/alerts/{alert_id}/acknowledge", dependencies=[can_act], response_model=AlertDetailPublic
)
async def acknowledge(
    alert_id: str, body: AcknowledgeRequest, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> AlertDetailPublic:
    alert = await _actionable(uow, principal, alert_id)
    alerting.acknowledge(uow, alert, _actor(principal), body.note, uow.clock.now())
    await uow.commit()
    return await _detail(uow, principal, alert)


@router.post("/alerts/{alert_id}/snooze", dependencies=[can_act], response_model=AlertDetailPublic)
async def snooze(
    alert_id: str, body: SnoozeRequest, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> AlertDetailPublic:
    alert = await _actionable(uow, principal, alert_id)
    alerting.snooze(uow, alert, _actor(principal), body.until, body.note, uow.clock.now())
    await uow.commit()
    return await _detail(uow, principal, alert)


async def _actionable(uow: UnitOfWork, principal: Principal, alert_id: str) -> Alert:
    alert, seen = await visible_alert(uow.session, principal, alert_id, for_update=True)
    if not may_act(principal, seen, alert):
        raise NotFound(f"no alert {alert_id}")
    return alert


def _actor(principal: Principal) -> str:
    return principal.person_id or principal.subject


async def _detail(uow: UnitOfWork, principal: Principal, alert: Alert) -> AlertDetailPublic:
    deliveries = await queries.deliveries_of(uow.session, alert.id)
    attempts = await queries.attempts_of(uow.session, [d.id for d in deliveries])
    return AlertDetailPublic(
        **AlertPublic.model_validate(alert).model_dump(),
        history=[
            HistoryPublic.model_validate(h) for h in await queries.history(uow.session, alert.id)
        ],
        deliveries=[
            _delivery(d, [a for a in attempts if a.delivery_id == d.id], sees_target(principal, d))
            for d in deliveries
        ],
    )


def _delivery(
    delivery: Delivery, attempts: list[DeliveryAttempt], with_target: bool
) -> DeliveryPublic:
    """Without the target, also without what the channel answered: an error
    message can quote the URL it failed to reach."""
    public = DeliveryPublic.model_validate(delivery)
    log = [AttemptPublic.model_validate(a) for a in attempts]
    if with_target:
        return public.model_copy(update={"log": log})
    return public.model_copy(
        update={
            "target": None,
            "last_detail": None,
            "log": [a.model_copy(update={"detail": None}) for a in log],
        }
    )
