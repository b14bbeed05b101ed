"""Rule settings (DOMAIN.md §6): each rule's parameters per scope, and what a
goal ends up with. Planners and admins change them; staff read them."""

from fastapi import APIRouter, Response

from alert_service.api.dependencies import Uow
from alert_service.api.models import (
    EffectiveRulePublic,
    EffectiveRulesPublic,
    LayerPublic,
    RuleSettingCreate,
    RuleSettingPublic,
    RuleSettingsPublic,
    RuleSettingUpdate,
)
from alert_service.service_layer import rule_settings
from servicekit import roles
from servicekit.auth import CurrentPrincipal
from servicekit.paging import PagingDep, page_of

router = APIRouter(tags=["rules"])


@router.get("/rules", dependencies=[roles.overseers], response_model=RuleSettingsPublic)
async def list_rule_settings(
    uow: Uow, principal: CurrentPrincipal, paging: PagingDep
) -> RuleSettingsPublic:
    page = page_of(await rule_settings.visible(uow, principal), paging, key=lambda s: s.id)
    return RuleSettingsPublic(
        data=[RuleSettingPublic.model_validate(s) for s in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.post(
    "/rules", dependencies=[roles.shapers], response_model=RuleSettingPublic, status_code=201
)
async def create_rule_setting(
    body: RuleSettingCreate, uow: Uow, principal: CurrentPrincipal
) -> RuleSettingPublic:
    setting = await rule_settings.create(
        uow, principal, body.rule, body.scope, body.scope_id, body.parameters
    )
    await uow.commit()
    return RuleSettingPublic.model_validate(setting)


@router.get("/rules/{setting_id}", dependencies=[roles.overseers], response_model=RuleSettingPublic)
async def get_rule_setting(
    setting_id: str, uow: Uow, principal: CurrentPrincipal
) -> RuleSettingPublic:
    return RuleSettingPublic.model_validate(
        await rule_settings.visible_one(uow, principal, setting_id)
    )


@router.put("/rules/{setting_id}", dependencies=[roles.shapers], response_model=RuleSettingPublic)
async def update_rule_setting(
    setting_id: str, body: RuleSettingUpdate, uow: Uow, principal: CurrentPrincipal
) -> RuleSettingPublic:
    setting = await rule_settings.update(uow, principal, setting_id, body.parameters)
    await uow.commit()
    return RuleSettingPublic.model_validate(setting)


@router.delete("/rules/{setting_id}", dependencies=[roles.shapers], status_code=204)
async def delete_rule_setting(setting_id: str, uow: Uow) -> Response:
    await rule_settings.delete(uow, setting_id)
    await uow.commit()
    return Response(status_code=204)


@router.get(
    "/goals/{goal_id}/rules", dependencies=[roles.overseers], response_model=EffectiveRulesPublic
)
async def effective_rules(
    goal_id: str, uow: Uow, principal: CurrentPrincipal
) -> EffectiveRulesPublic:
    """Each rule's parameters for the goal, and the settings they come from."""
    return EffectiveRulesPublic(
        goal_id=goal_id,
        data=[
            EffectiveRulePublic(
                rule=found.rule,
                parameters=found.parameters,
                layers=[
                    LayerPublic(scope=scope, scope_id=scope_id, parameters=parameters)
                    for scope, scope_id, parameters in found.layers
                ],
                problem=found.problem,
            )
            for found in await rule_settings.effective(uow, principal, goal_id)
        ],
    )
