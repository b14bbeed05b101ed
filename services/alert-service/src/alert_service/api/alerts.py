"""Alerts, as their owners and the people who plan and manage see them."""

from typing import Literal

from fastapi import APIRouter

from alert_service.api.models import AlertPublic, AlertsPublic
from alert_service.store import queries
from alert_service.store.tables import Alert
from servicekit.app import UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Principal, Role, require_roles
from servicekit.problems import NotFound

router = APIRouter(tags=["alerts"])
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP)
# A manager should see only the subtree they manage (ARCHITECTURE.md, Auth);
# until alert-service keeps the org tree, managers see every alert.
SEES_ALL = (Role.ADMIN, Role.PLANNER, Role.MANAGER)


@router.get("/alerts", dependencies=[can_read], response_model=AlertsPublic)
async def list_alerts(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    goal_id: str | None = None,
    owner_id: str | None = None,
    status: Literal["open", "resolved"] | None = None,
) -> AlertsPublic:
    if not principal.has_any(*SEES_ALL):
        if principal.person_id is None or owner_id not in (None, principal.person_id):
            return AlertsPublic(data=[], count=0)
        owner_id = principal.person_id
    alerts = await queries.alerts(uow.session, goal_id=goal_id, owner_id=owner_id, status=status)
    return AlertsPublic(
        data=[AlertPublic.model_validate(alert) for alert in alerts], count=len(alerts)
    )


@router.get("/alerts/{alert_id}", dependencies=[can_read], response_model=AlertPublic)
async def get_alert(alert_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal) -> Alert:
    alert = await queries.alert(uow.session, alert_id)
    if alert is None or not _visible(alert, principal):
        raise NotFound(f"no alert {alert_id}")
    return alert


def _visible(alert: Alert, principal: Principal) -> bool:
    return principal.has_any(*SEES_ALL) or alert.owner_id == principal.person_id
