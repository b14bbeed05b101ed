"""Alerts, as their owners, their managers and the people who plan see them; and
what owners and managers do with them."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from alert_service.api.dependencies import Uow
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
from alert_service.domain.lifecycle import Order
from alert_service.domain.rules import KnownRule
from alert_service.service_layer import alerts
from alert_service.service_layer.alerts import AlertDetail, DeliveryView, Filters
from attain_contracts.types import Severity
from servicekit import roles
from servicekit.auth import CurrentPrincipal
from servicekit.inputs import Offset
from servicekit.paging import PagingDep

router = APIRouter(tags=["alerts"])


@router.get("/alerts", dependencies=[roles.people], response_model=AlertsPublic)
async def list_alerts(
    uow: Uow,
    principal: CurrentPrincipal,
    paging: PagingDep,
    owner_id: str | None = None,
    org_unit_id: str | None = Query(default=None, description="the unit and its subtree"),
    goal_id: str | None = None,
    rule: KnownRule | None = None,
    severity: Severity | None = None,
    status: Annotated[
        list[Literal["open", "acknowledged", "resolved"]] | None,
        Query(description="any of these, given more than once (every status when absent)"),
    ] = None,
    order: Annotated[
        Order,
        Query(
            description="`newest` first, or `at_risk`: the largest shortfall of pace first, "
            "then the more severe, then the one open longest"
        ),
    ] = "newest",
    offset: Annotated[Offset, Query(deprecated=True, description="use `after`")] = 0,
) -> AlertsPublic:
    page = await alerts.page(
        uow,
        principal,
        Filters(owner_id, org_unit_id, goal_id, rule, severity, tuple(status or ())),
        order=order,
        after=paging.after,
        limit=paging.limit,
        offset=offset,
    )
    return AlertsPublic(
        data=[AlertPublic.model_validate(a) for a in page.alerts],
        count=page.count,
        next_after=page.next_after,
    )


@router.get("/alerts/{alert_id}", dependencies=[roles.people], response_model=AlertDetailPublic)
async def get_alert(alert_id: str, uow: Uow, principal: CurrentPrincipal) -> AlertDetailPublic:
    return _detail(await alerts.detail(uow, principal, alert_id))


@router.post(
    "/alerts/{alert_id}/acknowledge", dependencies=[roles.actors], response_model=AlertDetailPublic
)
async def acknowledge(
    alert_id: str, body: AcknowledgeRequest, uow: Uow, principal: CurrentPrincipal
) -> AlertDetailPublic:
    detail = await alerts.acknowledge(uow, principal, alert_id, body.note)
    await uow.commit()
    return _detail(detail)


@router.post(
    "/alerts/{alert_id}/snooze", dependencies=[roles.actors], response_model=AlertDetailPublic
)
async def snooze(
    alert_id: str, body: SnoozeRequest, uow: Uow, principal: CurrentPrincipal
) -> AlertDetailPublic:
    detail = await alerts.snooze(uow, principal, alert_id, body.until, body.note)
    await uow.commit()
    return _detail(detail)


def _detail(detail: AlertDetail) -> AlertDetailPublic:
    return AlertDetailPublic(
        **AlertPublic.model_validate(detail.alert).model_dump(),
        history=[HistoryPublic.model_validate(h) for h in detail.history],
        deliveries=[_delivery(d) for d in detail.deliveries],
    )


def _delivery(view: DeliveryView) -> DeliveryPublic:
    """Without the target, also without what the channel answered: an error
    message can quote the URL it failed to reach."""
    public = DeliveryPublic.model_validate(view.delivery)
    log = [AttemptPublic.model_validate(a) for a in view.attempts]
    if view.with_target:
        return public.model_copy(update={"log": log})
    return public.model_copy(
        update={
            "target": None,
            "last_detail": None,
            "log": [a.model_copy(update={"detail": None}) for a in log],
        }
    )
