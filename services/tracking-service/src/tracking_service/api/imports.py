"""Bulk ways in for integrations: a JSON batch of up to 10,000 records, and a CSV
import for what planners keep in spreadsheets. Valid records are applied in one
transaction; each rejected one is reported with its place and the field at fault."""

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from servicekit import roles
from servicekit.inputs import csv_rows
from servicekit.limits import body_limit
from servicekit.problems import InvalidInput, NotFound
from tracking_service.api.dependencies import Runtime
from tracking_service.api.recording import field_errors, field_path, parse_json
from tracking_service.api.webhooks import Kind, mapped
from tracking_service.domain.mapping import MappingError
from tracking_service.service_layer.ingest import Outcome, apply
from tracking_service.service_layer.records import MODELS, RecordIn
from tracking_service.service_layer.sources import find_source
from tracking_service.service_layer.unit import Source

router = APIRouter(tags=["imports"])

MAX_RECORDS = 10_000


class RecordError(BaseModel):
    kind: str
    index: int | None = None
    row: int | None = None
    id: str | None = None
    field: str | None
    reason: str


class ImportReport(BaseModel):
    accepted: int
    duplicate: int
    stale: int
    parked: int
    rejected: int
    errors: list[RecordError]


BATCH_BODY = {
    "required": True,
    "description": f"up to {MAX_RECORDS} records by kind, each in its kind's generic shape "
    "(see the webhooks) or in the source's own with a mapping",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "minProperties": 1,
                "properties": {
                    kind: {"type": "array", "items": {"type": "object"}} for kind in MODELS
                },
                "additionalProperties": False,
            }
        }
    },
}
CSV_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}
PARTLY_APPLIED: dict[int | str, dict[str, Any]] = {
    207: {"model": ImportReport, "description": "some records were rejected"}
}


@router.post(
    "/sources/{source_id}/batch",
    dependencies=[roles.integrations],
    response_model=ImportReport,
    responses=PARTLY_APPLIED,
    openapi_extra={**body_limit("bulk"), "requestBody": BATCH_BODY},
)
async def receive_batch(source_id: str, request: Request, runtime: Runtime) -> JSONResponse:
    """Body: `{"deals": [...], "payments": [...], "leads": [...], "activities": [...]}`,
    each record in its generic shape (or the source's, with a mapping)."""
    source = await find_source(runtime, source_id)
    if source is None:
        raise NotFound(f"no source {source_id}")
    body = parse_json(await request.body())
    if not isinstance(body, dict) or not body:
        raise InvalidInput("the body must be an object of record lists by kind")
    unknown = sorted(set(body) - set(MODELS))
    if unknown:
        raise InvalidInput(f"unknown record kind {unknown[0]}", field=unknown[0])
    if any(not isinstance(items, list) for items in body.values()):
        raise InvalidInput("each kind must hold a list of records")
    if sum(len(items) for items in body.values()) > MAX_RECORDS:
        raise InvalidInput(f"at most {MAX_RECORDS} records a request", field="records")
    records: list[RecordIn] = []
    errors: list[RecordError] = []
    for kind, items in body.items():
        for index, data in enumerate(items):
            parsed = _parse(source, kind, data, prefix=f"{kind}[{index}]")
            if isinstance(parsed, RecordIn):
                records.append(parsed)
            else:
                errors.extend(
                    RecordError(kind=kind, index=index, id=_id(data), **e) for e in parsed
                )
    return await _report(runtime, source_id, records, errors)


@router.post(
    "/sources/{source_id}/imports/{kind}",
    dependencies=[roles.integrations],
    response_model=ImportReport,
    responses=PARTLY_APPLIED,
    openapi_extra={**body_limit("import"), "requestBody": CSV_BODY},
)
async def import_csv(
    source_id: str, kind: Kind, request: Request, runtime: Runtime
) -> JSONResponse:
    """A CSV file, one record a row, headed by field names (ours, or the source's with a
    mapping). Empty cells are absent; `splits` is written `owner:percent;owner:percent`.
    Sent as the body (`text/csv`) or as the `file` field of a form."""
    source = await find_source(runtime, source_id)
    if source is None:
        raise NotFound(f"no source {source_id}")
    raw = await _csv_file(request)
    records: list[RecordIn] = []
    errors: list[RecordError] = []
    rows = 0
    for line, data in _csv_records(raw):
        rows += 1
        if rows > MAX_RECORDS:
            raise InvalidInput(f"at most {MAX_RECORDS} rows a file", field="file")
        parsed = _parse(source, kind, data, prefix="")
        if isinstance(parsed, RecordIn):
            records.append(parsed)
        else:
            errors.extend(RecordError(kind=kind, row=line, id=data.get("id"), **e) for e in parsed)
    if rows == 0:
        raise InvalidInput("the file has no rows", field="file")
    return await _report(runtime, source_id, records, errors)


def _parse(source: Source, kind: str, data: Any, prefix: str) -> RecordIn | list[dict[str, Any]]:
    try:
        return MODELS[kind].model_validate(mapped(source, kind, data))
    except ValidationError as error:
        return [
            {"field": e["field"] or None, "reason": e["reason"]}
            for e in field_errors(error, prefix)
        ]
    except InvalidInput as error:
        return [{"field": field_path(prefix, error.field) or None, "reason": error.detail}]
    except MappingError as error:
        return [{"field": field_path(prefix, error.field), "reason": error.reason}]


def _id(data: Any) -> str | None:
    return str(data["id"]) if isinstance(data, dict) and "id" in data else None


async def _report(
    runtime: Runtime, source_id: str, records: list[RecordIn], errors: list[RecordError]
) -> JSONResponse:
    if records:
        outcomes = await apply(runtime, source_id, records)
    else:
        outcomes = []
    if errors and not records:
        raise InvalidInput(
            f"none of the {len(errors)} records is valid; the first: "
            f"{errors[0].field}: {errors[0].reason}",
            field=errors[0].field,
            errors=[e.model_dump(exclude_none=True) for e in errors],
        )
    report = ImportReport(
        accepted=_count(outcomes, "accepted"),
        duplicate=_count(outcomes, "duplicate"),
        stale=_count(outcomes, "stale"),
        parked=_count(outcomes, "parked"),
        rejected=len(errors),
        errors=errors,
    )
    # 207: the request as a whole is fine and applied, but not every record was.
    return JSONResponse(report.model_dump(mode="json"), status_code=207 if errors else 200)


def _count(outcomes: list[Outcome], status: str) -> int:
    return sum(1 for outcome in outcomes if outcome.status == status)


async def _csv_file(request: Request) -> bytes:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("send the CSV as the form's `file` field", field="file")
        return await upload.read()
    return await request.body()


def _csv_records(raw: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row, the row's non-empty cells by the header's names), splits unpacked."""
    rows = csv_rows(raw)
    header = next(rows, None)
    if header is None:
        return
    names = header[1]
    for line, values in rows:
        if not values:
            continue
        cells: dict[str, Any] = {
            name: value for name, value in zip(names, values, strict=False) if name and value
        }
        if "splits" in cells:
            cells["splits"] = [
                dict(zip(("owner_id", "percent"), part.split(":", 1), strict=False))
                for part in cells["splits"].split(";")
                if part
            ]
        yield line, cells
