"""Loading what a batch of statements is priced from: the plans and who they
apply to, the org, each statement's quota, the ledger's credits, the team's
standing and the adjustments carried in (DOMAIN.md §7)."""

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from attain_contracts import Period, carries_quota
from attain_contracts.calendar import Grain
from incentive_service.domain import pricing
from incentive_service.domain.assignment import Assignee, PlanChoice, plan_for
from incentive_service.domain.plans import PlanTerms, TeamBonus
from incentive_service.service_layer.plan_periods import Key
from incentive_service.store import IncentiveStore
from incentive_service.store.tables import (
    Adjustment,
    OrgUnit,
    Plan,
    PlanVersion,
    Statement,
)
from servicekit.orgcopy import MembershipColumns

Periods = dict[Key, tuple[Period, Grain]]


@dataclass
class Directory:
    """What a batch needs of the org: every unit, and the batch's people."""

    units: dict[str, OrgUnit]
    memberships: dict[str, list[MembershipColumns]]
    managers: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.managers = frozenset(u.manager_id for u in self.units.values() if u.manager_id)

    def unit_of(self, person_id: str, on: date) -> str | None:
        """Their unit on `on`, else the last one they joined before it."""
        held = [m for m in self.memberships.get(person_id, []) if m.valid_from <= on]
        current = [m for m in held if m.valid_to is None or m.valid_to > on]
        chosen = current or held
        return (
            max(chosen, key=lambda m: (m.valid_from, m.org_unit_id)).org_unit_id if chosen else None
        )

    def assignee(self, person_id: str, on: date) -> Assignee:
        unit = self.unit_of(person_id, on)
        path = tuple(self.units[unit].path) if unit in self.units else ()
        return Assignee(person_id, "manager" if person_id in self.managers else "rep", path)


@dataclass
class Plans:
    rows: dict[str, Plan]
    terms: dict[tuple[str, date], PlanTerms]
    choices: list[PlanChoice]

    @classmethod
    def of(cls, plans: list[Plan], versions: list[PlanVersion]) -> "Plans":
        by_plan: dict[str, list[date]] = defaultdict(list)
        terms = {}
        for version in versions:
            by_plan[version.plan_id].append(version.effective_from)
            terms[(version.plan_id, version.effective_from)] = PlanTerms.model_validate(
                version.terms
            )
        choices = [
            PlanChoice(plan.id, plan.period_kind, plan.assignments, tuple(sorted(by_plan[plan.id])))
            for plan in plans
        ]
        return cls({plan.id: plan for plan in plans}, terms, choices)

    def for_(self, who: Assignee, period: Period, grain: Grain) -> tuple[Plan, date] | None:
        chosen = plan_for(self.choices, who, grain, period.start)
        return (self.rows[chosen[0].plan_id], chosen[1]) if chosen else None


async def load_plans(store: IncentiveStore) -> Plans:
    return Plans.of(await store.plans.all(), await store.plans.versions())


async def load_directory(
    store: IncentiveStore, person_ids: Collection[str] | None = None
) -> Directory:
    """Every unit, and the memberships of `person_ids` (everyone's when None)."""
    return Directory(await store.org.units(), await store.org.memberships(person_ids))


@dataclass(frozen=True)
class Inputs:
    """What the statements of a batch are priced from."""

    chosen: dict[Key, tuple[Plan, date] | None]
    carried: dict[Key, list[Adjustment]]
    existing: dict[Key, Statement]
    quotas: dict[tuple[str, str, date, date], pricing.Quota]
    credited: dict[tuple[str, str], list[Any]]
    teams: dict[Key, pricing.TeamStanding]


async def load_inputs(
    store: IncentiveStore, keys: Periods, plans: Plans, directory: Directory
) -> Inputs:
    chosen = {
        key: plans.for_(directory.assignee(key[0], period.end), period, grain)
        for key, (period, grain) in keys.items()
    }
    carried = await store.adjustments.into(keys)
    existing = await store.statements.by_keys(keys)
    # Only statements a plan prices need the ledger: the others carry adjustments at most.
    with_plan = [key for key, found in chosen.items() if found is not None]
    people = {person for person, _ in with_plan}
    metrics = {found[0].metric for found in chosen.values() if found is not None}
    first = min((keys[key][0].start for key in with_plan), default=date.max)
    last = max((keys[key][0].end for key in with_plan), default=date.min)
    quotas: dict[tuple[str, str, date, date], pricing.Quota] = {}
    credited: dict[tuple[str, str], list[Any]] = {}
    if with_plan:
        quotas = _quotas(await store.goals.of_people(people, metrics, first, last))
        credited = _by_person(await store.credits.of_people(people, metrics, first, last))
    teams = await _teams(store, keys, chosen, plans, directory)
    return Inputs(chosen, carried, existing, quotas, credited, teams)


async def _teams(
    store: IncentiveStore,
    keys: Periods,
    chosen: dict[Key, tuple[Plan, date] | None],
    plans: Plans,
    directory: Directory,
) -> dict[Key, pricing.TeamStanding]:
    """The standing of each person's team (the unit they belong to at the
    period's end) on its own goal, for plans with a team bonus."""
    wanted: dict[tuple[Period, str], dict[Key, str]] = defaultdict(dict)
    for key, found in chosen.items():
        if found is None:
            continue
        plan, effective_from = found
        terms = plans.terms[(plan.id, effective_from)]
        if not any(isinstance(c, TeamBonus) for c in terms.components):
            continue
        period = keys[key][0]
        unit = directory.unit_of(key[0], period.end)
        if unit is not None:
            wanted[(period, plan.metric)][key] = unit
    standings: dict[Key, pricing.TeamStanding] = {}
    for (period, metric), units_by_key in wanted.items():
        units = set(units_by_key.values())
        goals = await store.goals.of_units(units, metric, period.start, period.end)
        sums = await store.credits.contributions(units, metric, period.start, period.end)
        members = await store.org.members_of(units, period.end)
        marked = {
            person.id: person.carries_quota
            for person in await store.org.people(
                {person for team in members.values() for person in team}
            )
        }
        for key, unit in units_by_key.items():
            goal = goals.get(unit)
            if goal is None:
                continue
            manager = directory.units[unit].manager_id if unit in directory.units else None
            everyone = members.get(unit, [])
            team = [
                person
                for person in everyone
                if carries_quota(marked.get(person), manages_own_unit=person == manager)
            ]
            by_person = sums.get(unit, {})
            standings[key] = pricing.TeamStanding(
                unit_id=unit,
                goal_id=goal.goal_id,
                target=goal.target,
                actual=sum(by_person.values(), Decimal(0)),
                members=tuple(team),
                contributions=tuple(by_person.get(person, Decimal(0)) for person in team),
                without_quota=tuple(person for person in everyone if person not in team),
            )
    return standings


def _quotas(goals: Iterable[Any]) -> dict[tuple[str, str, date, date], pricing.Quota]:
    quotas: dict[tuple[str, str, date, date], pricing.Quota] = {}
    for goal in sorted(goals, key=lambda g: g.goal_id):
        quotas.setdefault(
            (goal.person_id, goal.metric, goal.period_start, goal.period_end),
            pricing.Quota(goal_id=goal.goal_id, target=goal.target),
        )
    return quotas


def _by_person(rows: Iterable[Any]) -> dict[tuple[str, str], list[Any]]:
    grouped: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        grouped[(row.person_id, row.metric)].append(row)
    return grouped
