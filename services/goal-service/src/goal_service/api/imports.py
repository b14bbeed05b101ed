"""Imports of what planners keep in spreadsheets (issue 4) over HTTP: the org tree
with its people, and goals, from a CSV or XLSX file whose first row names the
columns (read by `service_layer.import_parsing`, applied row by row by
`service_layer.imports`). 200 when no row was rejected, 207 when some were, 422
when all were or the file cannot be read."""

from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from goal_service.api.dependencies import Settings, Tracking, Uow
from goal_service.api.goals import warnings
from goal_service.api.models import FindingPublic
from goal_service.service_layer import import_parsing as parsing
from goal_service.service_layer import imports
from servicekit import roles
from servicekit.auth import CurrentPrincipal
from servicekit.limits import body_limit
from servicekit.problems import InvalidInput

router = APIRouter(tags=["imports"])

FILE_BODY = {
    **body_limit("import"),
    "requestBody": {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            parsing.XLSX: {"schema": {"type": "string", "format": "binary"}},
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


class RowReport(BaseModel):
    line: int = Field(description="the row as the spreadsheet numbers it; the header is 1")
    status: imports.Status
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


@router.post(
    "/imports/org",
    dependencies=[roles.shapers],
    response_model=OrgImportReport,
    responses={207: {"model": OrgImportReport, "description": "some rows were rejected"}},
    openapi_extra=FILE_BODY,
)
async def import_org(request: Request, uow: Uow) -> JSONResponse:
    """Org units and people, one a row, `type` = `unit` (`id, name, kind, parent_id,
    manager_id`) or `person` (`id, name, email, org_unit_id, member_since, maturity,
    hired_on`), in any order. Units are applied parents first, then people. A unit
    whose manager is a person of the file not yet stored is applied without that
    manager (keeping the one it has), and gets the manager once the people are in:
    two versions, as a planner doing it by hand would make. Sent as the body
    (`text/csv` or XLSX) or as the `file` field of a form."""
    form, raw = await _file(request)
    rows = parsing.rows_of(form, raw, parsing.ORG_COLUMNS, required=("type", "id"))
    reports = [
        RowReport(line=o.line, status=o.status, id=o.id, field=o.field, reason=o.reason)
        for o in await imports.apply_org(uow, rows)
    ]
    _refuse_when_none_applies(reports)
    report = OrgImportReport(**_counts(reports), rows=reports)
    await uow.commit()
    return _response(report, report.rejected)


@router.post(
    "/imports/goals",
    dependencies=[roles.shapers],
    response_model=GoalImportReport,
    responses={207: {"model": GoalImportReport, "description": "some rows were rejected"}},
    openapi_extra=FILE_BODY,
)
async def import_goals(
    request: Request,
    uow: Uow,
    settings: Settings,
    tracking: Tracking,
    principal: CurrentPrincipal,
) -> JSONResponse:
    """New goals, one a row, with the fields of `POST /goals` that fit in a cell
    (`metric, org_unit_id, person_id, owner_id, period_key` or `period_start` and
    `period_end`, `target, unit, product_line, parent_id, rationale`, ...). A row may
    name itself with `ref` and sit under another row of the file with `parent_ref`;
    parents are applied first. Each row gets its SMART warnings."""
    form, raw = await _file(request)
    rows = parsing.rows_of(
        form, raw, parsing.GOAL_COLUMNS, required=("metric", "org_unit_id", "target")
    )
    outcomes = await imports.apply_goals(uow, rows, tracking, settings, actor=principal.subject)
    reports = [
        GoalRowReport(
            line=o.line,
            status=o.status,
            id=o.id,
            ref=o.ref,
            field=o.field,
            reason=o.reason,
            warnings=warnings(o.findings),
        )
        for o in outcomes
    ]
    _refuse_when_none_applies(reports)
    report = GoalImportReport(**_counts(reports), rows=reports)
    await uow.commit()
    return _response(report, report.rejected)


async def _file(request: Request) -> tuple[parsing.Form, bytes]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("send the file as the form's `file` field", field="file")
        return (
            parsing.form_of(upload.content_type or "", upload.filename or ""),
            await upload.read(),
        )
    return parsing.form_of(content_type, ""), await request.body()


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
