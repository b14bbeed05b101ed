"""Imports of what planners keep in spreadsheets (issue 4): the org tree with its
people, and goals, from a CSV or XLSX file whose first row names the columns.

Each row is applied exactly as its single-item endpoint applies it
(`org.upsert_org_unit`, `org.upsert_person`, `goals.add_goal`: same checks,
versions and events). A file is one transaction and each row a SAVEPOINT in it,
so a bad row is reported (its line as the spreadsheet numbers it, header = 1;
the field; the reason) while the good ones apply. 200 when no row was rejected,
207 when some were, 422 when all were or the file cannot be read."""

import io
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Concatenate, Literal, ParamSpec, TypeVar

import openpyxl
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from goal_service.api import goals, org
from goal_service.api.deps import SettingsDep, TrackingDep
from goal_service.api.models import FindingPublic, GoalCreate, OrgUnitPut, PersonPut
from goal_service.settings import GoalSettings
from goal_service.store import goals as store_goals
from goal_service.store import queries
from goal_service.store.tables import Goal
from goal_service.tracking import TrackingClient
from servicekit.app import UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Role, require_roles
from servicekit.inputs import csv_rows
from servicekit.limits import body_limit
from servicekit.problems import InvalidInput, Problem
from servicekit.uow import UnitOfWork

router = APIRouter(tags=["imports"])
can_shape = require_roles(Role.ADMIN, Role.PLANNER)

MAX_ROWS = 10_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNIT_COLUMNS = ("name", "kind", "parent_id", "manager_id")
PERSON_COLUMNS = ("name", "email", "org_unit_id", "member_since", "maturity", "hired_on")
ORG_COLUMNS = ("type", "id", *UNIT_COLUMNS, *PERSON_COLUMNS)
# Every field of a new goal that fits in one cell; `ref` names a row, `parent_ref` points at one.
GOAL_COLUMNS = (
    *(name for name in GoalCreate.model_fields if name not in ("contributors", "milestones")),
    "ref",
    "parent_ref",
)
FILE_BODY = {
    **body_limit("import"),
    "requestBody": {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        }
    },
}

Status = Literal["applied", "unchanged", "rejected"]
K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
P = ParamSpec("P")


class RowReport(BaseModel):
    line: int = Field(description="the row as the spreadsheet numbers it; the header is 1")
    status: Status
    id: str | None
    field: str | None = None
    reason: str | None = None


class GoalRowReport(RowReport):
    ref: str | None = None
    warnings: list[FindingPublic] = []


class OrgImportReport(BaseModel):
    applied: int
    unchanged: int
    rejected: int
    rows: list[RowReport]


class GoalImportReport(BaseModel):
    applied: int
    unchanged: int
    rejected: int
    rows: list[GoalRowReport]


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]  # the non-empty cells by column


@router.post(
    "/imports/org",
    dependencies=[can_shape],
    response_model=OrgImportReport,
    responses={207: {"model": OrgImportReport, "description": "some rows were rejected"}},
    openapi_extra=FILE_BODY,
)
async def import_org(request: Request, uow: UnitOfWorkDep) -> JSONResponse:
    """Org units and people, one a row, `type` = `unit` (`id, name, kind, parent_id,
    manager_id`) or `person` (`id, name, email, org_unit_id, member_since, maturity,
    hired_on`), in any order. Units are applied parents first, then people. A unit
    whose manager is a person of the file not yet stored is applied without that
    manager (keeping the one it has), and gets the manager once the people are in:
    two versions, as a planner doing it by hand would make. Sent as the body
    (`text/csv` or XLSX) or as the `file` field of a form."""
    rows = await _rows(request, ORG_COLUMNS, required=("type", "id"))
    reports = await _apply_org(uow, rows)
    _refuse_when_none_applies(reports)
    report = OrgImportReport(**_counts(reports), rows=reports)
    await uow.commit()
    return _response(report, report.rejected)


@router.post(
    "/imports/goals",
    dependencies=[can_shape],
    response_model=GoalImportReport,
    responses={207: {"model": GoalImportReport, "description": "some rows were rejected"}},
    openapi_extra=FILE_BODY,
)
async def import_goals(
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    tracking: TrackingDep,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """New goals, one a row, with the fields of `POST /goals` that fit in a cell
    (`metric, org_unit_id, person_id, owner_id, period_key` or `period_start` and
    `period_end`, `target, unit, product_line, parent_id, rationale`, ...). A row may
    name itself with `ref` and sit under another row of the file with `parent_ref`;
    parents are applied first. Each row gets its SMART warnings."""
    rows = await _rows(request, GOAL_COLUMNS, required=("metric", "org_unit_id", "target"))
    reports = await _apply_goals(uow, rows, tracking, settings, actor=principal.subject)
    _refuse_when_none_applies(reports)
    report = GoalImportReport(**_counts(reports), rows=reports)
    await uow.commit()
    return _response(report, report.rejected)


async def _apply_org(uow: UnitOfWork, rows: list[Row]) -> list[RowReport]:
    reports: dict[int, RowReport] = {}
    lines: dict[str, dict[str, int]] = {"unit": {}, "person": {}}
    units: dict[str, tuple[int, OrgUnitPut]] = {}
    people: list[tuple[int, str, PersonPut]] = []

    def reject(line: int, id: str | None, field: str | None, reason: str) -> None:
        reports[line] = RowReport(line=line, status="rejected", id=id, field=field, reason=reason)

    def rejected_row(kind: str, id: str | None) -> str:
        line = lines[kind].get(id) if id is not None else None
        if line is not None and line in reports and reports[line].status == "rejected":
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

    session = uow.session
    changed: dict[str, bool] = {}
    later_managers: dict[str, OrgUnitPut] = {}
    for id in order:
        line, body = units[id]
        first = body
        manager = body.manager_id
        if manager in lines["person"] and manager and not await queries.person(session, manager):
            current = await queries.org_unit(session, id)
            first = body.model_copy(update={"manager_id": current.manager_id if current else None})
            later_managers[id] = body
        unit = await _in_savepoint(org.upsert_org_unit, uow, id, first)
        if isinstance(unit, Problem):
            hint = rejected_row("unit", body.parent_id) if unit.field == "parent_id" else ""
            reject(line, id, unit.field, unit.detail + hint)
        else:
            changed[id] = unit[1]

    for line, id, member in people:
        person = await _in_savepoint(org.upsert_person, uow, id, member)
        if isinstance(person, Problem):
            hint = rejected_row("unit", member.org_unit_id) if person.field == "org_unit_id" else ""
            reject(line, id, person.field, person.detail + hint)
        else:
            reports[line] = RowReport(line=line, status=_status(person[1]), id=id)

    for id, body in later_managers.items():
        if id not in changed:
            continue
        line = units[id][0]
        unit = await _in_savepoint(org.upsert_org_unit, uow, id, body)
        if isinstance(unit, Problem):
            hint = rejected_row("person", body.manager_id)
            reject(line, id, unit.field, f"{unit.detail}{hint}; the unit is kept without it")
            del changed[id]
        else:
            changed[id] = changed[id] or unit[1]
    for id, was_changed in changed.items():
        line = units[id][0]
        reports[line] = RowReport(line=line, status=_status(was_changed), id=id)
    return [reports[line] for line in sorted(reports)]


async def _apply_goals(
    uow: UnitOfWork,
    rows: list[Row],
    tracking: TrackingClient,
    settings: GoalSettings,
    *,
    actor: str,
) -> list[GoalRowReport]:
    reports: dict[int, GoalRowReport] = {}
    refs: dict[str, int] = {}
    parsed: dict[int, tuple[GoalCreate, str | None, str | None]] = {}

    def reject(line: int, ref: str | None, field: str | None, reason: str) -> None:
        reports[line] = GoalRowReport(
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
        added = await _in_savepoint(goals.add_goal, uow, body, tracking, settings, actor=actor)
        if isinstance(added, goals.DuplicateGoal):  # imported before: the file's target wins
            existing = added.existing
            changed = await _in_savepoint(
                _retarget, uow, existing, body.target, actor, settings.timezone
            )
            if isinstance(changed, Problem):
                reject(line, ref, changed.field, changed.detail)
                continue
            goal_ids[line] = existing.id
            reports[line] = GoalRowReport(
                line=line, status=_status(changed), id=existing.id, ref=ref
            )
            continue
        if isinstance(added, Problem):
            reject(line, ref, added.field, added.detail)
            continue
        goal, findings = added
        goal_ids[line] = goal.id
        reports[line] = GoalRowReport(
            line=line, status="applied", id=goal.id, ref=ref, warnings=goals.warnings(findings)
        )
    return [reports[line] for line in sorted(reports)]


async def _retarget(
    uow: UnitOfWork, goal: Goal, target: Decimal, actor: str, timezone: str
) -> bool:
    if target <= 0:
        raise InvalidInput("a target must be positive", field="target")
    return store_goals.change(
        uow, goal, actor=actor, reason="imported", timezone=timezone, target=target
    )


async def _in_savepoint(
    write: Callable[Concatenate[UnitOfWork, P], Awaitable[T]],
    uow: UnitOfWork,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T | Problem:
    """One row's write, or the problem that refused it with its writes undone. The
    single-item functions check everything before they write or publish, so a
    refused row has queued no event either."""
    try:
        async with uow.session.begin_nested():
            return await write(uow, *args, **kwargs)
    except Problem as problem:
        return problem


def parents_first(parent_of: Mapping[K, K | None]) -> tuple[list[K], dict[K, list[K]]]:
    """The keys ordered so that each comes after its parent when the parent is a key
    too (ties in their given order), and apart, each key on a cycle of parents with
    that cycle (`a → b → a`). A key under a cycle counts as a root: its parent will
    not be applied from the file, though it may exist already."""
    position = {key: index for index, key in enumerate(parent_of)}
    depth: dict[K, int] = {}
    cycles: dict[K, list[K]] = {}
    for start in parent_of:
        chain: dict[K, None] = {}  # ordered, and a quick `in` on a deep tree
        node: K | None = start
        while (
            node is not None
            and node in parent_of
            and node not in depth
            and node not in cycles
            and node not in chain
        ):
            chain[node] = None
            node = parent_of[node]
        walked = list(chain)
        if node in chain:
            loop = walked[walked.index(node) :]
            for i, member in enumerate(loop):
                cycles[member] = [*loop[i:], *loop[:i], member]
            walked = walked[: walked.index(node)]
        base = depth.get(node, -1) if node is not None else -1
        for member in reversed(walked):
            base += 1
            depth[member] = base
    return sorted(depth, key=lambda key: (depth[key], position[key])), cycles


async def _rows(
    request: Request, columns: Collection[str], *, required: Collection[str]
) -> list[Row]:
    """The file's data rows, or a 422 naming what makes the file unreadable."""
    form, raw = await _file(request)
    lines = _xlsx_lines(raw) if form == "xlsx" else csv_rows(raw)
    first = next(lines, None)
    names = [name.strip().lower() for name in first[1]] if first else []
    if not any(names):
        raise InvalidInput("the file has no header row naming its columns", field="file")
    for name in names:
        if name and name not in columns:
            raise InvalidInput(
                f"unknown column {name}; the columns are {', '.join(columns)}", field=name
            )
        if name and names.count(name) > 1:
            raise InvalidInput(f"column {name} appears twice", field=name)
    for name in required:
        if name not in names:
            raise InvalidInput(f"the file has no {name} column", field=name)
    rows: list[Row] = []
    for line, values in lines:
        cells = {
            name: value.strip()
            for name, value in zip(names, values, strict=False)
            if name and value.strip()
        }
        if not cells:
            continue
        if len(rows) == MAX_ROWS:
            raise InvalidInput(f"at most {MAX_ROWS} rows a file", field="file")
        rows.append(Row(line, cells))
    if not rows:
        raise InvalidInput("the file has no rows below its header", field="file")
    return rows


async def _file(request: Request) -> tuple[Literal["csv", "xlsx"], bytes]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("send the file as the form's `file` field", field="file")
        return _format(upload.content_type or "", upload.filename or ""), await upload.read()
    return _format(content_type, ""), await request.body()


def _format(content_type: str, filename: str) -> Literal["csv", "xlsx"]:
    """By the file's name first: browsers send a .csv as `application/vnd.ms-excel`."""
    name = filename.lower()
    media = content_type.split(";")[0].strip().lower()
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith(".csv"):
        return "csv"
    if media == XLSX:
        return "xlsx"
    if media == "text/csv":
        return "csv"
    sent = filename or media or "no content type"
    raise InvalidInput(f"send a CSV (text/csv) or an XLSX file, not {sent}", field="file")


def _xlsx_lines(raw: bytes) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) per row of the first sheet."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
    except Exception as error:  # openpyxl fails on a malformed file with many kinds of error
        raise InvalidInput(
            f"the file is not a readable XLSX workbook: {error}", field="file"
        ) from error
    # From A1, not from the first filled cell, so that lines are the sheet's row numbers.
    rows = book.worksheets[0].iter_rows(min_row=1, min_col=1, values_only=True)
    for line, values in enumerate(rows, start=1):
        yield line, [_cell_text(value) for value in values]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # Excel dates are datetimes at midnight
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():  # a computed whole number, e.g. 1E+5
        return str(int(value))
    return str(value)


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


def _counts(reports: Sequence[RowReport]) -> dict[str, int]:
    counts = {"applied": 0, "unchanged": 0, "rejected": 0}
    for report in reports:
        counts[report.status] += 1
    return counts


def _refuse_when_none_applies(reports: Sequence[RowReport]) -> None:
    """Nothing to commit: the whole file is refused, with every row's reason."""
    if all(r.status == "rejected" for r in reports):
        first = reports[0]
        raise InvalidInput(
            f"none of the {len(reports)} rows can be applied; line {first.line}: "
            f"{first.field + ': ' if first.field else ''}{first.reason}",
            field=first.field,
            errors=[r.model_dump(mode="json", exclude_none=True) for r in reports],
        )


def _response(report: BaseModel, rejected: int) -> JSONResponse:
    # 207: the file as a whole is applied, but not every row of it.
    return JSONResponse(report.model_dump(mode="json"), status_code=207 if rejected else 200)
