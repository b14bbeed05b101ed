"""Which settings a goal's rule takes: DOMAIN.md §6 defaults, then the
organisation's, the metric's, each org unit's root first, and the goal's own."""

from decimal import Decimal

import pytest

from alert_service.domain.rulebook import RuleBook, Setting
from alert_service.domain.rules import InvalidRuleParams, PaceParams

PATH = ("company", "region", "team")


def book(*settings: Setting) -> RuleBook:
    return RuleBook(iter(settings))  # any iterable, read once


def pace(rulebook: RuleBook, goal_id: str = "g1", path: tuple[str, ...] = PATH) -> PaceParams:
    params = rulebook.params("pace", "revenue", path, goal_id)
    assert isinstance(params, PaceParams)
    return params


def test_without_settings_the_domain_defaults_apply() -> None:
    assert pace(book()) == PaceParams()


def test_the_most_specific_setting_wins() -> None:
    rulebook = book(
        Setting("pace", "default", "", {"threshold": "0.05"}),
        Setting("pace", "metric", "revenue", {"threshold": "0.06"}),
        Setting("pace", "org_unit", "region", {"threshold": "0.07"}),
        Setting("pace", "org_unit", "team", {"threshold": "0.08"}),
        Setting("pace", "goal", "g1", {"threshold": "0.09"}),
        Setting("ahead", "goal", "g1", {"threshold": "0.5"}),
    )
    assert pace(rulebook).threshold == Decimal("0.09")
    assert pace(rulebook, goal_id="g2").threshold == Decimal("0.08")
    assert pace(rulebook, goal_id="g2", path=("company", "region")).threshold == Decimal("0.07")
    assert pace(rulebook, goal_id="g2", path=("other",)).threshold == Decimal("0.06")
    deals = rulebook.params("pace", "deals_won", ("other",), "g2")
    assert isinstance(deals, PaceParams) and deals.threshold == Decimal("0.05")


def test_layers_merge_field_by_field_and_name_their_source() -> None:
    rulebook = book(
        Setting("pace", "org_unit", "region", {"grace_share": "0.3"}),
        Setting("pace", "goal", "g1", {"enabled": False}),
    )
    params = pace(rulebook)
    assert (params.grace_share, params.enabled) == (Decimal("0.3"), False)
    assert [
        (scope, scope_id) for scope, scope_id, _ in rulebook.layers("pace", "revenue", PATH, "g1")
    ] == [
        ("org_unit", "region"),
        ("goal", "g1"),
    ]


def test_settings_valid_alone_but_not_together_are_refused_naming_the_field() -> None:
    rulebook = book(
        Setting("pace", "org_unit", "region", {"threshold": "0.2"}),
        Setting("pace", "goal", "g1", {"critical_threshold": "0.15"}),
    )
    with pytest.raises(InvalidRuleParams) as raised:
        pace(rulebook)
    assert raised.value.field == "critical_threshold"
    assert pace(rulebook, goal_id="g2").threshold == Decimal("0.2")
