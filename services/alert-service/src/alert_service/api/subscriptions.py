"""Subscriptions: how each person wants to hear about alerts. People manage
their own; admins manage anyone's."""

from fastapi import APIRouter, Response

from alert_service.api.dependencies import Runtime, Uow
from alert_service.api.models import (
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
    SubscriptionsPublic,
    SubscriptionUpdate,
)
from alert_service.service_layer import subscriptions
from servicekit import roles
from servicekit.auth import CurrentPrincipal
from servicekit.paging import PagingDep, page_of

router = APIRouter(tags=["subscriptions"])


@router.get("/subscriptions", dependencies=[roles.people], response_model=SubscriptionsPublic)
async def list_subscriptions(
    uow: Uow,
    principal: CurrentPrincipal,
    paging: PagingDep,
    person_id: str | None = None,
) -> SubscriptionsPublic:
    """Your own; an admin may name anyone, or leave it out for all."""
    page = page_of(
        await subscriptions.listed(uow, principal, person_id), paging, key=lambda s: s.id
    )
    return SubscriptionsPublic(
        data=[SubscriptionPublic.model_validate(s) for s in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.post(
    "/subscriptions",
    dependencies=[roles.people],
    response_model=SubscriptionCreated,
    status_code=201,
)
async def create_subscription(
    body: SubscriptionCreate, uow: Uow, principal: CurrentPrincipal, runtime: Runtime
) -> SubscriptionCreated:
    subscription = await subscriptions.create(
        uow, principal, body.model_dump(), runtime.settings.timezone
    )
    await uow.commit()
    return SubscriptionCreated(
        **SubscriptionPublic.model_validate(subscription).model_dump(),
        secret=subscription.secret if body.channel == "webhook" else None,
    )


@router.get(
    "/subscriptions/{subscription_id}",
    dependencies=[roles.people],
    response_model=SubscriptionPublic,
)
async def get_subscription(
    subscription_id: str, uow: Uow, principal: CurrentPrincipal
) -> SubscriptionPublic:
    return SubscriptionPublic.model_validate(
        await subscriptions.own(uow, principal, subscription_id)
    )


@router.patch(
    "/subscriptions/{subscription_id}",
    dependencies=[roles.people],
    response_model=SubscriptionPublic,
)
async def update_subscription(
    subscription_id: str,
    body: SubscriptionUpdate,
    uow: Uow,
    principal: CurrentPrincipal,
) -> SubscriptionPublic:
    subscription = await subscriptions.update(
        uow, principal, subscription_id, body.model_dump(exclude_unset=True)
    )
    await uow.commit()
    return SubscriptionPublic.model_validate(subscription)


@router.delete("/subscriptions/{subscription_id}", dependencies=[roles.people], status_code=204)
async def delete_subscription(
    subscription_id: str, uow: Uow, principal: CurrentPrincipal
) -> Response:
    await subscriptions.delete(uow, principal, subscription_id)
    await uow.commit()
    return Response(status_code=204)
