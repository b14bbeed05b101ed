"""Subscriptions: how each person wants to hear about alerts. People manage their
own; admins manage anyone's."""

import base64
import re
import secrets
from typing import Any
from uuid import uuid4

from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

from alert_service.service_layer import AlertUnit
from alert_service.store.tables import Subscription
from servicekit.auth import Principal, Role
from servicekit.errors import FieldError, Missing

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL = TypeAdapter(AnyHttpUrl)


async def listed(uow: AlertUnit, principal: Principal, person_id: str | None) -> list[Subscription]:
    """Your own; an admin may name anyone, or leave it out for all."""
    if not principal.has_any(Role.ADMIN):
        person_id = _self(principal)
    return await uow.store.subscriptions.listed(person_id)


async def create(
    uow: AlertUnit, principal: Principal, fields: dict[str, Any], default_timezone: str
) -> Subscription:
    """`fields` are the request's; a webhook gets a signing secret of ours."""
    person_id = fields.get("person_id") or _self(principal)
    if person_id != principal.person_id and not principal.has_any(Role.ADMIN):
        raise Missing(f"no person {person_id} you may subscribe")
    channel = fields["channel"]
    _check_target(channel, fields["target"])
    secret = fields.get("secret")
    if channel == "webhook":
        # Standard Webhooks: a random key the receiver verifies our signatures with.
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    subscription = Subscription(
        id=f"sub_{uuid4().hex[:16]}",
        person_id=person_id,
        channel=channel,
        target=fields["target"],
        secret=secret,
        min_severity=fields["min_severity"],
        scope=fields["scope"],
        quiet_start=fields.get("quiet_start"),
        quiet_end=fields.get("quiet_end"),
        timezone=fields.get("timezone") or default_timezone,
        enabled=fields["enabled"],
        created_at=uow.clock.now(),
    )
    uow.store.subscriptions.add(subscription)
    return subscription


async def own(uow: AlertUnit, principal: Principal, subscription_id: str) -> Subscription:
    subscription = await uow.store.subscriptions.one(subscription_id)
    if subscription is None or not (
        principal.has_any(Role.ADMIN) or subscription.person_id == principal.person_id
    ):
        raise Missing(f"no subscription {subscription_id}")
    return subscription


async def update(
    uow: AlertUnit, principal: Principal, subscription_id: str, changes: dict[str, Any]
) -> Subscription:
    """`changes` are the fields the request set."""
    subscription = await own(uow, principal, subscription_id)
    if "target" in changes:
        _check_target(subscription.channel, changes["target"])
    for name, value in changes.items():
        if value is None and name not in ("quiet_start", "quiet_end"):
            raise FieldError(name, f"{name} cannot be cleared")
        setattr(subscription, name, value)
    return subscription


async def delete(uow: AlertUnit, principal: Principal, subscription_id: str) -> None:
    await uow.store.subscriptions.delete(await own(uow, principal, subscription_id))


def _self(principal: Principal) -> str:
    if principal.person_id is None:
        raise FieldError("person_id", "the token names no person; give person_id")
    return principal.person_id


def _check_target(channel: str, target: str) -> None:
    if channel == "email":
        if not EMAIL.match(target):
            raise FieldError("target", "not an e-mail address")
        return
    try:
        URL.validate_python(target)
    except ValidationError as error:
        raise FieldError("target", f"not an http(s) URL for {channel}") from error
