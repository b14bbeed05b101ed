"""Which org units a person's credit rolls up to on a given day (DOMAIN.md §1):
the path in force on the credit date, not today's."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Stint:
    """A person's membership of one org unit; `valid_to` is exclusive."""

    org_unit_id: str
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class Directory:
    """What tracking-service has heard of the org: memberships per person, and
    each org unit's path from the root."""

    stints: dict[str, list[Stint]]
    paths: dict[str, tuple[str, ...]]

    def org_path_on(self, person_id: str, day: date) -> tuple[str, ...]:
        """Root first. A unit not heard of yet stands alone on its path; a person
        not heard of yet has an empty path (re-pathed when they are)."""
        for stint in self.stints.get(person_id, []):
            if stint.valid_from <= day and (stint.valid_to is None or day < stint.valid_to):
                return self.paths.get(stint.org_unit_id, (stint.org_unit_id,))
        return ()
