"""Rule settings (DOMAIN.md §6): each rule's parameters per scope, and what a goal
ends up with. A setting must make sense over the defaults on its own."""

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from alert_service.domain.rulebook import RuleBook, Setting
from alert_service.domain.rules import RULES, InvalidRuleParams, RuleName, effective_params
from alert_service.service_layer import AlertUnit
from alert_service.service_layer.visibility import actor, visible_goal, visible_settings
from alert_service.store.tables import RuleSetting
from servicekit.auth import Principal
from servicekit.errors import Clash, FieldError, Missing


@dataclass(frozen=True)
class EffectiveRule:
    rule: RuleName
    # None when the settings that apply are inconsistent together: `problem` says why.
    parameters: dict[str, Any] | None
    layers: list[tuple[str, str, dict[str, Any]]]
    problem: str | None = None


async def visible(uow: AlertUnit, principal: Principal) -> list[RuleSetting]:
    return sorted(
        await visible_settings(uow.store, principal, await uow.store.rules.all()),
        key=lambda s: (s.rule, s.scope, s.scope_id),
    )


async def create(
    uow: AlertUnit,
    principal: Principal,
    rule: RuleName,
    scope: str,
    scope_id: str | None,
    parameters: dict[str, Any],
) -> RuleSetting:
    scope_id = scope_id or ""
    if (scope == "default") != (scope_id == ""):
        raise FieldError(
            "scope_id",
            "scope_id is required for a metric, org unit or goal scope, and empty for default",
        )
    _check(rule, parameters)
    setting = RuleSetting(
        id=f"rs_{uuid4().hex[:16]}",
        rule=rule,
        scope=scope,
        scope_id=scope_id,
        parameters=parameters,
        updated_by=actor(principal),
        updated_at=uow.clock.now(),
    )
    if not await uow.store.rules.add(setting):
        raise Clash(f"{rule} already has a setting for {scope} {scope_id!r}; change that one")
    return setting


async def visible_one(uow: AlertUnit, principal: Principal, setting_id: str) -> RuleSetting:
    setting = await _setting(uow, setting_id)
    if not await visible_settings(uow.store, principal, [setting]):
        raise Missing(f"no rule setting {setting_id}")
    return setting


async def update(
    uow: AlertUnit, principal: Principal, setting_id: str, parameters: dict[str, Any]
) -> RuleSetting:
    setting = await _setting(uow, setting_id)
    _check(setting.rule, parameters)
    setting.parameters = parameters
    setting.updated_by = actor(principal)
    setting.updated_at = uow.clock.now()
    return setting


async def delete(uow: AlertUnit, setting_id: str) -> None:
    await uow.store.rules.delete(await _setting(uow, setting_id))


async def effective(uow: AlertUnit, principal: Principal, goal_id: str) -> list[EffectiveRule]:
    """Each rule's parameters for the goal, and the settings they come from."""
    goal, path = await visible_goal(uow.store, principal, goal_id)
    book = RuleBook(
        Setting(s.rule, s.scope, s.scope_id, s.parameters) for s in await uow.store.rules.all()
    )
    found = []
    for rule in RULES:
        layers = book.layers(rule, goal.metric, path, goal_id)
        try:
            params = book.params(rule, goal.metric, path, goal_id).model_dump(mode="json")
            found.append(EffectiveRule(rule, params, layers))
        except InvalidRuleParams as error:
            found.append(EffectiveRule(rule, None, layers, f"{error.field}: {error.reason}"))
    return found


def _check(rule: RuleName, parameters: dict[str, object]) -> None:
    try:
        effective_params(rule, [parameters])
    except InvalidRuleParams as error:
        raise FieldError(f"parameters.{error.field}", error.reason) from error


async def _setting(uow: AlertUnit, setting_id: str) -> RuleSetting:
    setting = await uow.store.rules.one(setting_id)
    if setting is None:
        raise Missing(f"no rule setting {setting_id}")
    return setting
