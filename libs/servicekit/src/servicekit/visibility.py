"""Who sees what (ARCHITECTURE.md, Auth), the part every service shares: admins,
planners and viewers see everything; a manager the subtrees of the org units they
manage, and their own; a rep their own. Anything else is answered as if it did not
exist. Which resources a caller sees is each service's own `sees_*` rule, built on
the value here."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from servicekit.auth import Principal, Role

READS_ALL = (Role.ADMIN, Role.PLANNER, Role.VIEWER)
"""The roles of `servicekit.roles.readers_of_everything`."""


class OrgReader(Protocol):
    """What building a `Visibility` reads of the org (`servicekit.orgcopy.OrgCopy` has it)."""

    async def managed_units(self, person_id: str) -> list[str]: ...

    async def paths(self, ids: Iterable[str]) -> dict[str, tuple[str, ...]]: ...


@dataclass(frozen=True)
class Visibility:
    """`everything`, or the caller's own (`person_id`) and the subtrees of the
    `managed` units, whose paths from the root are `managed_paths`."""

    everything: bool
    person_id: str | None
    managed: frozenset[str]
    managed_paths: tuple[tuple[str, ...], ...] = ()

    @classmethod
    async def of(cls, principal: Principal, org: OrgReader) -> "Visibility":
        if principal.has_any(*READS_ALL):
            return cls(True, principal.person_id, frozenset())
        managed: frozenset[str] = frozenset()
        if principal.has_any(Role.MANAGER) and principal.person_id:
            managed = frozenset(await org.managed_units(principal.person_id))
        person = principal.person_id if principal.has_any(Role.MANAGER, Role.REP) else None
        paths = tuple(sorted((await org.paths(managed)).values())) if managed else ()
        return cls(False, person, managed, paths)

    def is_person(self, person_id: str | None) -> bool:
        """The caller themself (not who sees everything)."""
        return person_id is not None and person_id == self.person_id

    def manages(self, path: Iterable[str]) -> bool:
        """A unit on `path` (root first) is one the caller manages."""
        return not self.managed.isdisjoint(path)

    def sees_person(self, person_id: str | None) -> bool:
        return self.everything or self.is_person(person_id)

    def sees_path(self, path: Iterable[str]) -> bool:
        """The unit whose path this is lies in the caller's subtrees."""
        return self.everything or self.manages(path)

    def sees_unit_or_above(self, unit_id: str, path: Iterable[str]) -> bool:
        """The unit is in the caller's subtrees, or above a unit they manage (whose
        settings the managed unit inherits)."""
        return self.sees_path(path) or any(unit_id in managed for managed in self.managed_paths)
