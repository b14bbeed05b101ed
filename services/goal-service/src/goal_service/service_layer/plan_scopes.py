"""The org as a plan sees it: which children a goal's scope splits into, who
owns each, and the maturity and hire dates behind granularity and capacity.
The whole org is read once per plan: a company plan touches all of it."""

from dataclasses import dataclass
from datetime import date
from typing import Literal

from attain_contracts import Period, carries_quota
from goal_service.store import GoalStore
from goal_service.store.tables import Membership, OrgUnit, Person, ProductLine
from servicekit.errors import FieldError


@dataclass(frozen=True)
class Scope:
    """A child of a split: an org unit, a person or a product line (`kind`)."""

    id: str
    org_unit_id: str
    person_id: str | None
    owner_id: str
    kind: Literal["unit", "person", "line"]


class Scopes:
    def __init__(self, store: GoalStore) -> None:
        self._store = store
        self._loaded = False
        self._units: dict[str, OrgUnit] = {}
        self._children: dict[str, list[OrgUnit]] = {}
        self._people: dict[str, Person] = {}
        self._memberships: dict[str, list[Membership]] = {}
        self._lines: dict[str, ProductLine] = {}
        self._joined: dict[str, date] = {}

    async def children(
        self, org_unit_id: str, person_id: str | None, period: Period, to: str
    ) -> list[Scope]:
        await self._load()
        if person_id is not None:
            raise FieldError("steps", "a person's goal has no org children to split to")
        units = self._children.get(org_unit_id, [])
        if to == "units" or (to == "auto" and units):
            return [self._unit_scope(unit) for unit in units]
        return [
            Scope(person.id, org_unit_id, person.id, person.id, "person")
            for person in self._members(org_unit_id, period)
        ]

    async def name(self, scope: Scope) -> str:
        """The child as a planner reads it: its name and its id."""
        await self._load()
        if scope.kind == "person":
            return self._person_name(scope.id)
        if scope.kind == "line":
            return self._line_name(scope.id)
        return self._unit_name(scope.id)

    async def name_of(
        self, org_unit_id: str, person_id: str | None = None, product_line: str | None = None
    ) -> str:
        """A goal's scope by name and id: the person's, else the unit's, and its line."""
        await self._load()
        who = self._person_name(person_id) if person_id else self._unit_name(org_unit_id)
        return f"{who}, {self._line_name(product_line)}" if product_line else who

    def _unit_name(self, unit_id: str) -> str:
        unit = self._units.get(unit_id)
        return f"{unit.name} ({unit_id})" if unit else unit_id

    def _person_name(self, person_id: str) -> str:
        person = self._people.get(person_id)
        return f"{person.name} ({person_id})" if person else person_id

    def _line_name(self, line_id: str) -> str:
        line = self._lines.get(line_id)
        return f"{line.name} ({line_id})" if line else line_id

    async def path(self, org_unit_id: str) -> list[str]:
        await self._load()
        unit = self._units.get(org_unit_id)
        return list(unit.path) if unit else [org_unit_id]

    async def maturity(self, person_id: str | None) -> Literal["new", "experienced"] | None:
        """A person's maturity; None for a unit's goal (a unit has none)."""
        await self._load()
        if person_id is None:
            return None
        person = self._people.get(person_id)
        return "new" if person is not None and person.maturity == "new" else "experienced"

    async def line_maturity(self, product_line: str | None) -> Literal["new", "mature"] | None:
        await self._load()
        line = self._lines.get(product_line or "")
        if line is None:
            return None
        return "new" if line.maturity == "new" else "mature"

    async def hire_dates(self, scope: Scope, period: Period) -> list[date]:
        """The hire dates of the people a child stands for who carry a quota:
        the person, or everyone in the unit's subtree at the period's end. A
        manager in the unit they manage carries none unless marked so."""
        await self._load()
        if scope.kind == "person":
            # A person child is a member of the unit being split.
            members = [(scope.org_unit_id, self._people[scope.id])]
        else:
            members = [
                (unit.id, person)
                for unit in self._units.values()
                if scope.id in unit.path
                for person in self._members(unit.id, period)
            ]
        return [
            self._hired_on(person)
            for unit_id, person in members
            if carries_quota(
                person.carries_quota,
                manages_own_unit=self._units[unit_id].manager_id == person.id,
            )
        ]

    def _unit_scope(self, unit: OrgUnit) -> Scope:
        if unit.manager_id is None:
            raise FieldError(
                "steps", f"org unit {self._unit_name(unit.id)} has no manager to own its goal"
            )
        return Scope(unit.id, unit.id, None, unit.manager_id, "unit")

    def _members(self, org_unit_id: str, period: Period) -> list[Person]:
        """People in the unit at the end of the period, whenever they joined."""
        return [
            self._people[m.person_id]
            for m in self._memberships.get(org_unit_id, [])
            if m.valid_from <= period.end and (m.valid_to is None or m.valid_to > period.end)
        ]

    def _hired_on(self, person: Person) -> date:
        if person.hired_on is not None:
            return person.hired_on
        return self._joined[person.id]

    async def _load(self) -> None:
        if self._loaded:
            return
        org = await self._store.org.snapshot()
        for unit in org.units:
            self._units[unit.id] = unit
            if unit.parent_id is not None:
                self._children.setdefault(unit.parent_id, []).append(unit)
        self._people = {p.id: p for p in org.people}
        for membership in org.memberships:
            self._memberships.setdefault(membership.org_unit_id, []).append(membership)
            joined = self._joined.get(membership.person_id, membership.valid_from)
            self._joined[membership.person_id] = min(joined, membership.valid_from)
        self._lines = {line.id: line for line in org.lines}
        self._loaded = True
