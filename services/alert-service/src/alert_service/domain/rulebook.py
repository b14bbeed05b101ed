"""Which parameters a rule has for a goal: DOMAIN.md §6's defaults, overridden by
the organisation's `default` setting, then the goal's metric, then each org unit
from the root down to the goal's (the nearest one wins), then the goal itself."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from alert_service.domain.rules import InvalidRuleParams, RuleName, effective_params


@dataclass(frozen=True)
class Setting:
    rule: str
    scope: str  # default, metric, org_unit or goal
    scope_id: str
    parameters: Mapping[str, Any]


class RuleBook:
    def __init__(self, settings: Iterable[Setting]) -> None:
        settings = list(settings)
        self._layers = {(s.rule, s.scope, s.scope_id): dict(s.parameters) for s in settings}
        self._goal_rules = {(s.rule, s.scope_id) for s in settings if s.scope == "goal"}
        self._cached = lru_cache(maxsize=65_536)(self._resolve)

    def params(
        self, rule: RuleName, metric: str, org_path: tuple[str, ...], goal_id: str
    ) -> BaseModel:
        """Raises `InvalidRuleParams` when the layers together are inconsistent
        (each is checked alone when it is saved, not against every other)."""
        # Most goals have no setting of their own: share the answer per scope.
        own = goal_id if (rule, goal_id) in self._goal_rules else None
        return self._cached(rule, metric, org_path, own)

    def layers(
        self, rule: str, metric: str, org_path: tuple[str, ...], goal_id: str | None
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """The settings that apply, least specific first: (scope, scope id, parameters)."""
        keys = [("default", ""), ("metric", metric)]
        keys += [("org_unit", unit) for unit in org_path]
        if goal_id is not None:
            keys.append(("goal", goal_id))
        return [
            (scope, scope_id, self._layers[(rule, scope, scope_id)])
            for scope, scope_id in keys
            if (rule, scope, scope_id) in self._layers
        ]

    def _resolve(
        self, rule: RuleName, metric: str, org_path: tuple[str, ...], goal_id: str | None
    ) -> BaseModel:
        return effective_params(
            rule, [params for _, _, params in self.layers(rule, metric, org_path, goal_id)]
        )


__all__ = ["InvalidRuleParams", "RuleBook", "Setting"]
