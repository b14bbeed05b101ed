"""Rule settings (DOMAIN.md §6): each rule's parameters per scope, and what a
goal ends up with. Planners and admins change them; staff read them."""

from uuid import uuid4

from fastapi import APIRouter, Response
from sqlalchemy.exc import IntegrityError

from alert_service.api.models import (
    EffectiveRulePublic,
    EffectiveRulesPublic,
    LayerPublic,
    RuleSettingCreate,
    RuleSettingPublic,
    RuleSettingsPublic,
    RuleSettingUpdate,
)
from alert_service.api.visibility import visible_goal, visible_settings
from alert_service.domain.rulebook import RuleBook, Setting
from alert_service.domain.rules import RULES, InvalidRuleParams, RuleName, effective_params
from alert_service.store import queries
from alert_service.store.tables import RuleSetting
from servicekit.app import UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Role, require_roles
from servicekit.paging import PagingDep, page_of
from servicekit.problems import Conflict, InvalidInput, NotFound

router = APIRouter(tags=["rules"])
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.VIEWER)
can_write = require_roles(Role.ADMIN, Role.PLANNER)


@router.get("/rules", dependencies=[can_read], response_model=RuleSettingsPublic)
async def list_rule_settings(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, paging: PagingDep
) -> RuleSettingsPublic:
    settings = sorted(
        await visible_settings(uow.session, principal, await queries.rule_settings(uow.session)),
        key=lambda s: (s.rule, s.scope, s.scope_id),
    )
    page = page_of(settings, paging, key=lambda s: s.id)
    return RuleSettingsPublic(
        data=[RuleSettingPublic.model_validate(s) for s in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.post("/rules", dependencies=[can_write], response_model=RuleSettingPublic, status_code=201)
async def create_rule_setting(
    body: RuleSettingCreate, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> RuleSetting:
    scope_id = body.scope_id or ""
    if (body.scope == "default") != (scope_id == ""):
        raise InvalidInput(
            "scope_id is required for a metric, org unit or goal scope, and empty for default",
            field="scope_id",
        )
    _check(body.rule, body.parameters)
    setting = RuleSetting(
        id=f"rs_{uuid4().hex[:16]}",
        rule=body.rule,
        scope=body.scope,
        scope_id=scope_id,
        parameters=body.parameters,
        updated_by=principal.person_id or principal.subject,
        updated_at=uow.clock.now(),
    )
    uow.session.add(setting)
    try:
        await uow.commit()
    except IntegrityError as error:
        raise Conflict(
            f"{body.rule} already has a setting for {body.scope} {scope_id!r}; change that one"
        ) from error
    return setting


@router.get("/rules/{setting_id}", dependencies=[can_read], response_model=RuleSettingPublic)
async def get_rule_setting(
    setting_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> RuleSetting:
    setting = await _setting(uow, setting_id)
    if not await visible_settings(uow.session, principal, [setting]):
        raise NotFound(f"no rule setting {setting_id}")
    return setting


@router.put("/rules/{setting_id}", dependencies=[can_write], response_model=RuleSettingPublic)
async def update_rule_setting(
    setting_id: str, body: RuleSettingUpdate, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> RuleSetting:
    setting = await _setting(uow, setting_id)
    _check(setting.rule, body.parameters)  # type: ignore[arg-type]
    setting.parameters = body.parameters
    setting.updated_by = principal.person_id or principal.subject
    setting.updated_at = uow.clock.now()
    await uow.commit()
    return setting


@router.delete("/rules/{setting_id}", dependencies=[can_write], status_code=204)
async def delete_rule_setting(setting_id: str, uow: UnitOfWorkDep) -> Response:
    await uow.session.delete(await _setting(uow, setting_id))
    await uow.commit()
    return Response(status_code=204)


@router.get("/goals/{goal_id}/rules", dependencies=[can_read], response_model=EffectiveRulesPublic)
async def effective_rules(
    goal_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> EffectiveRulesPublic:
    """Each rule's parameters for the goal, and the settings they come from."""
    goal, path = await visible_goal(uow.session, principal, goal_id)
    book = RuleBook(
        Setting(s.rule, s.scope, s.scope_id, s.parameters)
        for s in await queries.rule_settings(uow.session)
    )
    data = []
    for rule in RULES:
        layers = [
            LayerPublic(scope=scope, scope_id=scope_id, parameters=parameters)
            for scope, scope_id, parameters in book.layers(rule, goal.metric, path, goal_id)
        ]
        try:
            params = book.params(rule, goal.metric, path, goal_id).model_dump(mode="json")
            data.append(EffectiveRulePublic(rule=rule, parameters=params, layers=layers))
        except InvalidRuleParams as error:
            data.append(
                EffectiveRulePublic(
                    rule=rule,
                    parameters=None,
                    layers=layers,
                    problem=f"{error.field}: {error.reason}",
                )
            )
    return EffectiveRulesPublic(goal_id=goal_id, data=data)


def _check(rule: RuleName, parameters: dict[str, object]) -> None:
    """A setting must make sense over the defaults on its own."""
    try:
        effective_params(rule, [parameters])
    except InvalidRuleParams as error:
        raise InvalidInput(error.reason, field=f"parameters.{error.field}") from error


async def _setting(uow: UnitOfWorkDep, setting_id: str) -> RuleSetting:
    setting = await uow.session.get(RuleSetting, setting_id)
    if setting is None:
        raise NotFound(f"no rule setting {setting_id}")
    return setting
