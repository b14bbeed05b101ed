"""What every way in (webhook, adapter, batch, CSV) shares: turning JSON into
validated records with errors that name the field, and the answer per record
(applied by `service_layer.ingest.apply`, committed before the caller answers)."""

import json
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from servicekit.errors import FieldError
from servicekit.problems import InvalidInput
from tracking_service.service_layer.ingest import Outcome
from tracking_service.service_layer.records import MODELS, RecordIn


def field_path(*parts: object) -> str:
    """A field's place, dotted (`deals[3].splits.0.percent`), leaving out empty parts:
    an error about a whole record is placed at the record."""
    return ".".join(str(part) for part in parts if part not in (None, ""))


def field_errors(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    return [_field_error(e, prefix) for e in error.errors()]


def _field_error(e: ErrorDetails, prefix: str) -> dict[str, str]:
    """One fault, at its field. A rule across fields raises `FieldError` naming the
    field it is about; a rule's own words go without pydantic's "Value error, "."""
    location, reason = e["loc"], e["msg"]
    cause = e.get("ctx", {}).get("error")
    if isinstance(cause, FieldError):
        location, reason = (
            (*location, *(cause.field.split(".") if cause.field else ())),
            cause.reason,
        )
    elif isinstance(cause, ValueError):
        reason = str(cause)
    return {"field": field_path(prefix, *location), "reason": reason, "code": e["type"]}


def invalid(error: ValidationError, prefix: str = "") -> InvalidInput:
    errors = field_errors(error, prefix)
    first = errors[0]
    field = first["field"] or None
    return InvalidInput(
        f"{field}: {first['reason']}" if field else first["reason"], field=field, errors=errors
    )


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidInput(f"the body is not JSON: {error}") from error


def parse_record(kind: str, data: Any) -> RecordIn:
    """One record of `kind` (deals, payments, ...) or a 422 naming the field."""
    try:
        return MODELS[kind].model_validate(data)
    except ValidationError as error:
        raise invalid(error) from error


class RecordAccepted(BaseModel):
    kind: str
    id: str
    version: int
    duplicate: bool
    stale: bool
    parked: str | None = None
    ledger_entries: list[str]

    @classmethod
    def of(cls, outcome: Outcome) -> "RecordAccepted":
        return cls(
            kind=outcome.kind,
            id=outcome.record_id,
            version=outcome.version,
            duplicate=outcome.status == "duplicate",
            stale=outcome.status == "stale",
            parked=outcome.parked_reason,
            ledger_entries=outcome.entries,
        )
