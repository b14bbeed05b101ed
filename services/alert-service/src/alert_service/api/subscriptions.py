"""Subscriptions: how each person wants to hear about alerts. People manage
their own; admins manage anyone's."""

import base64
import re
import secrets
from uuid import uuid4

from fastapi import APIRouter, Response
from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

from alert_service.api.dependencies import SettingsDep
from alert_service.api.models import (
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
    SubscriptionsPublic,
    SubscriptionUpdate,
)
from alert_service.store import queries
from alert_service.store.tables import Subscription
from servicekit.app import UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Principal, Role, require_roles
from servicekit.paging import PagingDep, page_of
from servicekit.problems import InvalidInput, NotFound

router = APIRouter(tags=["subscriptions"])
can_subscribe = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP, Role.VIEWER)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL = TypeAdapter(AnyHttpUrl)


@router.get("/subscriptions", dependencies=[can_subscribe], response_model=SubscriptionsPublic)
async def list_subscriptions(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    person_id: str | None = None,
) -> SubscriptionsPublic:
    """Your own; an admin may name anyone, or leave it out for all."""
    if not principal.has_any(Role.ADMIN):
        person_id = _self(principal)
    page = page_of(await queries.subscriptions(uow.session, person_id), paging, key=lambda s: s.id)
    return SubscriptionsPublic(
        data=[SubscriptionPublic.model_validate(s) for s in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.post(
    "/subscriptions",
    dependencies=[can_subscribe],
    response_model=SubscriptionCreated,
    status_code=201,
)
async def create_subscription(
    body: SubscriptionCreate, uow: UnitOfWorkDep, principal: CurrentPrincipal, settings: SettingsDep
) -> SubscriptionCreated:
    person_id = body.person_id or _self(principal)
    if person_id != principal.person_id and not principal.has_any(Role.ADMIN):
        raise NotFound(f"no person {person_id} you may subscribe")
    _check_target(body.channel, body.target)
    secret = body.secret
    if body.channel == "webhook":
        # Standard Webhooks: a random key the receiver verifies our signatures with.
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    subscription = Subscription(
        id=f"sub_{uuid4().hex[:16]}",
        person_id=person_id,
        channel=body.channel,
        target=body.target,
        secret=secret,
        min_severity=body.min_severity,
        scope=body.scope,
        quiet_start=body.quiet_start,
        quiet_end=body.quiet_end,
        timezone=body.timezone or settings.timezone,
        enabled=body.enabled,
        created_at=uow.clock.now(),
    )
    uow.session.add(subscription)
    await uow.commit()
    return SubscriptionCreated(
        **SubscriptionPublic.model_validate(subscription).model_dump(),
        secret=secret if body.channel == "webhook" else None,
    )


@router.get(
    "/subscriptions/{subscription_id}",
    dependencies=[can_subscribe],
    response_model=SubscriptionPublic,
)
async def get_subscription(
    subscription_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Subscription:
    return await _own(uow, principal, subscription_id)


@router.patch(
    "/subscriptions/{subscription_id}",
    dependencies=[can_subscribe],
    response_model=SubscriptionPublic,
)
async def update_subscription(
    subscription_id: str,
    body: SubscriptionUpdate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> Subscription:
    subscription = await _own(uow, principal, subscription_id)
    changes = body.model_dump(exclude_unset=True)
    if "target" in changes:
        _check_target(subscription.channel, changes["target"])
    for name, value in changes.items():
        if value is None and name not in ("quiet_start", "quiet_end"):
            raise InvalidInput(f"{name} cannot be cleared", field=name)
        setattr(subscription, name, value)
    await uow.commit()
    return subscription


@router.delete("/subscriptions/{subscription_id}", dependencies=[can_subscribe], status_code=204)
async def delete_subscription(
    subscription_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Response:
    await uow.session.delete(await _own(uow, principal, subscription_id))
    await uow.commit()
    return Response(status_code=204)


def _self(principal: Principal) -> str:
    if principal.person_id is None:
        raise InvalidInput("the token names no person; give person_id", field="person_id")
    return principal.person_id


def _check_target(channel: str, target: str) -> None:
    if channel == "email":
        if not EMAIL.match(target):
            raise InvalidInput("not an e-mail address", field="target")
        return
    try:
        URL.validate_python(target)
    except ValidationError as error:
        raise InvalidInput(f"not an http(s) URL for {channel}", field="target") from error


async def _own(uow: UnitOfWorkDep, principal: Principal, subscription_id: str) -> Subscription:
    subscription = await uow.session.get(Subscription, subscription_id)
    if subscription is None or not (
        principal.has_any(Role.ADMIN) or subscription.person_id == principal.person_id
    ):
        raise NotFound(f"no subscription {subscription_id}")
    return subscription
