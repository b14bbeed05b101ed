"""The rule registry is the one list of rules: the API's rule names, the settings'
validation and the notifications' titles all read it."""

from datetime import date
from decimal import Decimal

import pytest

from alert_service.api.models import RuleSettingCreate
from alert_service.domain.messages import notification_title
from alert_service.domain.rules import (
    REGISTRY,
    RULES,
    GoalFacts,
    InvalidRuleParams,
    Situation,
    effective_params,
)

pytestmark = pytest.mark.unit

QUIET_GOAL = GoalFacts(
    goal_id="g",
    metric="revenue",
    direction="higher_is_better",
    start=date(2026, 3, 1),
    end=date(2026, 3, 31),
    target=Decimal(2200),
    numerator=Decimal(0),
)


def test_the_api_offers_exactly_the_registered_rules() -> None:
    schema = RuleSettingCreate.model_json_schema()
    assert schema["properties"]["rule"]["enum"] == list(RULES)


def test_each_registered_rule_validates_its_own_parameters() -> None:
    for rule in REGISTRY.values():
        assert isinstance(effective_params(rule.name, []), rule.params)
    with pytest.raises(InvalidRuleParams):
        effective_params("unheard_of", [])


def test_a_notification_is_titled_by_its_rule() -> None:
    for rule in REGISTRY.values():
        title = notification_title("warning", "opened", rule.name, "revenue 2026-03")
        assert title == f"[warning] revenue 2026-03: {rule.title}"


def test_the_series_and_silence_rules_judge_only_what_evaluation_gave_them() -> None:
    day = date(2026, 3, 20)
    bare = Situation(QUIET_GOAL, day)
    watched = Situation(QUIET_GOAL, day, closed=[], carries_silence=True)
    silence, low = REGISTRY["silence"], REGISTRY["consecutive_low"]
    assert silence.judge(bare, silence.params()) is None
    assert silence.judge(watched, silence.params()) is not None
    assert low.judge(bare, low.params()) is None
