"""Applying an imported file's rows (issue 4): the org tree with its people, and
goals. Each row is applied exactly as its single-item use case applies it
(`org.upsert_unit`, `org.upsert_person`, `goals.add`: same checks, versions and
events). A file is one transaction and each row a savepoint in it, so a bad row
is reported (its line, the field, the reason) while the good ones apply."""

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Concatenate, Literal, ParamSpec, TypeVar

from pydantic import ValidationError

from goal_service.clients.tracking import TrackingClient
from goal_service.domain import smart
from goal_service.domain.ordering import parents_first
from goal_service.service_layer import Unit, goal_writes, goals, org
from goal_service.service_layer.import_parsing import Row
from goal_service.service_layer.inputs import GoalCreate, OrgUnitPut, PersonPut
from goal_service.settings import GoalSettings
from goal_service.store.tables import Goal
from servicekit.errors import Clash, FieldError, Missing

Status = Literal["applied", "unchanged", "rejected"]
T = TypeVar("T")
P = ParamSpec("P")


@dataclass
class Outcome:
    """What became of one row."""

    line: int
    status: Status
    id: str | None
    field: str | None = None
    reason: str | None = None
    ref: str | None = None
    findings: list[smart.Finding] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Refusal:
    """Why a row's write was refused (its writes undone)."""

    field: str | None
    reason: str
    error: Exception


async def apply_org(uow: Unit, rows: list[Row]) -> list[Outcome]:
    """Units parents first, then people. A unit whose manager is a person of the
    file not yet stored is applied without that manager (keeping the one it has),
    and gets the manager once the people are in: two versions, as a planner doing
    it by hand would make."""
    outcomes: dict[int, Outcome] = {}
    lines: dict[str, dict[str, int]] = {"unit": {}, "person": {}}
    units: dict[str, tuple[int, OrgUnitPut]] = {}
    people: list[tuple[int, str, PersonPut]] = []

    def reject(line: int, id: str | None, field: str | None, reason: str) -> None:
        outcomes[line] = Outcome(line=line, status="rejected", id=id, field=field, reason=reason)

    def rejected_row(kind: str, id: str | None) -> str:
        line = lines[kind].get(id) if id is not None else None
        if line is not None and line in outcomes and outcomes[line].status == "rejected":
            return f" (its row, line {line}, was rejected)"
        return ""

    for row in rows:
        kind, id = row.cells.get("type"), row.cells.get("id")
        if kind not in lines:
            reject(row.line, id, "type", "type is unit or person")
            continue
        if id is None:
            reject(row.line, id, "id", "every row needs an id")
            continue
        if id in lines[kind]:
            reject(row.line, id, "id", f"{kind} {id} is already on line {lines[kind][id]}")
            continue
        lines[kind][id] = row.line
        cells = {k: v for k, v in row.cells.items() if k not in ("type", "id")}
        try:
            if kind == "unit":
                units[id] = (row.line, OrgUnitPut.model_validate(cells))
            else:
                people.append((row.line, id, PersonPut.model_validate(cells)))
        except ValidationError as error:
            reject(row.line, id, *_invalid(error, kind))

    order, cycles = parents_first({id: body.parent_id for id, (_, body) in units.items()})
    for id, cycle in cycles.items():
        reject(
            units[id][0], id, "parent_id", f"the file's parents form a cycle: {' → '.join(cycle)}"
        )

    store = uow.store
    changed: dict[str, bool] = {}
    later_managers: dict[str, OrgUnitPut] = {}
    for id in order:
        line, body = units[id]
        first = body
        manager = body.manager_id
        if manager in lines["person"] and manager and not await store.org.person(manager):
            current = await store.org.unit(id)
            first = body.model_copy(update={"manager_id": current.manager_id if current else None})
            later_managers[id] = body
        unit = await _in_savepoint(org.upsert_unit, uow, id, first)
        if isinstance(unit, Refusal):
            hint = rejected_row("unit", body.parent_id) if unit.field == "parent_id" else ""
            reject(line, id, unit.field, unit.reason + hint)
        else:
            changed[id] = unit[1]

    for line, id, member in people:
        person = await _in_savepoint(org.upsert_person, uow, id, member)
        if isinstance(person, Refusal):
            hint = rejected_row("unit", member.org_unit_id) if person.field == "org_unit_id" else ""
            reject(line, id, person.field, person.reason + hint)
        else:
            outcomes[line] = Outcome(line=line, status=_status(person[1]), id=id)

    for id, body in later_managers.items():
        if id not in changed:
            continue
        line = units[id][0]
        unit = await _in_savepoint(org.upsert_unit, uow, id, body)
        if isinstance(unit, Refusal):
            hint = rejected_row("person", body.manager_id)
            reject(line, id, unit.field, f"{unit.reason}{hint}; the unit is kept without it")
            del changed[id]
        else:
            changed[id] = changed[id] or unit[1]
    for id, was_changed in changed.items():
        line = units[id][0]
        outcomes[line] = Outcome(line=line, status=_status(was_changed), id=id)
    return [outcomes[line] for line in sorted(outcomes)]


async def apply_goals(
    uow: Unit, rows: list[Row], tracking: TrackingClient, settings: GoalSettings, *, actor: str
) -> list[Outcome]:
    """New goals, parents (by `parent_ref`) first; a goal imported before gets the
    file's target."""
    outcomes: dict[int, Outcome] = {}
    refs: dict[str, int] = {}
    parsed: dict[int, tuple[GoalCreate, str | None, str | None]] = {}

    def reject(line: int, ref: str | None, field: str | None, reason: str) -> None:
        outcomes[line] = Outcome(
            line=line, status="rejected", id=None, ref=ref, field=field, reason=reason
        )

    for row in rows:
        cells = dict(row.cells)
        ref, parent_ref = cells.pop("ref", None), cells.pop("parent_ref", None)
        if ref is not None:
            if ref in refs:
                reject(row.line, ref, "ref", f"ref {ref} is already on line {refs[ref]}")
                continue
            refs[ref] = row.line
        if parent_ref is not None and "parent_id" in cells:
            reject(row.line, ref, "parent_ref", "give parent_id or parent_ref, not both")
            continue
        try:
            parsed[row.line] = (GoalCreate.model_validate(cells), ref, parent_ref)
        except ValidationError as error:
            reject(row.line, ref, *_invalid(error, "goal"))

    parent_of: dict[int, int | None] = {}
    for line, (_, ref, parent_ref) in parsed.items():
        if parent_ref is not None and parent_ref not in refs:
            reject(line, ref, "parent_ref", f"no row of the file has ref {parent_ref}")
        else:
            parent_of[line] = refs[parent_ref] if parent_ref is not None else None
    order, cycles = parents_first(parent_of)
    for line, cycle in cycles.items():
        named = " → ".join(str(parsed[member][1]) for member in cycle)
        reject(line, parsed[line][1], "parent_ref", f"the file's parent_refs form a cycle: {named}")

    goal_ids: dict[int, str] = {}
    for line in order:
        body, ref, parent_ref = parsed[line]
        if parent_ref is not None:
            parent_line = refs[parent_ref]
            if parent_line not in goal_ids:
                reason = f"the row with ref {parent_ref}, line {parent_line}, was rejected"
                reject(line, ref, "parent_ref", reason)
                continue
            body = body.model_copy(update={"parent_id": goal_ids[parent_line]})
        added = await _in_savepoint(goals.add, uow, body, tracking, settings, actor=actor)
        if isinstance(added, Refusal) and isinstance(added.error, goals.DuplicateGoal):
            existing = added.error.existing  # imported before: the file's target wins
            changed = await _in_savepoint(
                _retarget, uow, existing, body.target, actor, settings.timezone
            )
            if isinstance(changed, Refusal):
                reject(line, ref, changed.field, changed.reason)
                continue
            goal_ids[line] = existing.id
            outcomes[line] = Outcome(line=line, status=_status(changed), id=existing.id, ref=ref)
            continue
        if isinstance(added, Refusal):
            reject(line, ref, added.field, added.reason)
            continue
        goal, findings = added
        goal_ids[line] = goal.id
        outcomes[line] = Outcome(
            line=line, status="applied", id=goal.id, ref=ref, findings=findings
        )
    return [outcomes[line] for line in sorted(outcomes)]


async def _retarget(uow: Unit, goal: Goal, target: Decimal, actor: str, timezone: str) -> bool:
    if target <= 0:
        raise FieldError("target", "a target must be positive")
    return goal_writes.change(
        uow, goal, actor=actor, reason="imported", timezone=timezone, target=target
    )


async def _in_savepoint(
    write: Callable[Concatenate[Unit, P], Awaitable[T]],
    uow: Unit,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T | Refusal:
    """One row's write, or why it was refused with its writes undone. The single-item
    use cases check everything before they write or publish, so a refused row has
    queued no event either."""
    try:
        async with uow.store.savepoint():
            return await write(uow, *args, **kwargs)
    except (FieldError, Clash) as error:
        return Refusal(error.field, error.reason, error)
    except Missing as error:
        return Refusal(None, error.what, error)


def _invalid(error: ValidationError, kind: str) -> tuple[str | None, str]:
    """The first field at fault and every reason, as one row's rejection."""
    reasons = []
    for e in error.errors():
        field = ".".join(str(part) for part in e["loc"])
        reason = f"not a column of a {kind} row" if e["type"] == "extra_forbidden" else e["msg"]
        reasons.append((field or None, reason))
    first_field = reasons[0][0]
    return first_field, "; ".join(
        reason if index == 0 or not field else f"{field}: {reason}"
        for index, (field, reason) in enumerate(reasons)
    )


def _status(changed: bool) -> Status:
    return "applied" if changed else "unchanged"
