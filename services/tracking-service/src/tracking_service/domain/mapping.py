"""Field mapping per source, so that a CRM without an adapter is connected by
configuration only. A mapping says, per record kind, where each of our fields
is in the source's JSON record: a JMESPath expression (https://jmespath.org),
or an object

    {"path": "...", "values": {...}, "otherwise": ..., "default": ..., "as": "..."}
    {"value": ...}

`apply_mapping` turns a source record into our generic JSON record (the deal
shape is `DealIn`); what the record then means is the ingest's business."""

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    field_validator,
    model_validator,
)

# The plural names records are pushed under; one RecordMapping each.
RecordCollection = Literal["deals", "payments", "leads", "activities"]
Conversion = Literal[
    "string",
    "decimal",
    "int",
    "date",
    "datetime",
    "epoch_ms_date",
    "epoch_ms_datetime",
    "date_or_epoch_ms",
    "datetime_or_epoch_ms",
]
Constant = str | int | bool

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MappingError(ValueError):
    """A source value that the mapping cannot turn into ours; the caller answers
    422 naming `field`."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class FieldSpec(BaseModel):
    """Where one of our fields comes from. `path` is read from the source record,
    `value` is a constant of ours. A path that yields nothing (null, missing or
    the empty string, which CRMs send for unset properties) gives `default`, or
    no field at all. `values` translates the source's value to ours; a value not
    in it gives `otherwise`, else `default`, else a `MappingError`. `as` converts
    the source value; `values`, `otherwise` and `default` are ours already."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = None
    value: Constant | None = None
    values: dict[str, Constant] | None = None
    otherwise: Constant | None = None
    default: Constant | None = None
    conversion: Conversion | None = Field(default=None, alias="as")
    _expression: ParsedResult | None = PrivateAttr(default=None)

    @field_validator("path")
    @classmethod
    def _compiles(cls, path: str | None) -> str | None:
        if path is not None:
            try:
                jmespath.compile(path)
            except JMESPathError as error:
                raise ValueError(f"not a valid JMESPath expression: {error}") from None
        return path

    @model_validator(mode="after")
    def _one_source(self) -> "FieldSpec":
        if (self.path is None) == (self.value is None):
            raise ValueError("give exactly one of path or value")
        if self.value is not None and self._reads_source():
            raise ValueError("a constant value takes no values, otherwise, default or as")
        if self.otherwise is not None and self.values is None:
            raise ValueError("otherwise is the fallback of values; give values too")
        if self.values is not None and self.conversion is not None:
            # A translated value is ours already: converting it as well would be
            # ambiguous about which side the conversion reads.
            raise ValueError("give values or as, not both")
        if self.path is not None:
            self._expression = jmespath.compile(self.path)
        return self

    def _reads_source(self) -> bool:
        return any(
            spec is not None
            for spec in (self.values, self.otherwise, self.default, self.conversion)
        )

    def read(self, field: str, record: Any) -> Any:
        """This field's value of ours for `record`, None when it has none."""
        if self._expression is None:
            return self.value
        found = self._expression.search(record)
        if found is None or found == "":
            return self.default
        if self.values is not None:
            return self._translated(field, found, self.values)
        if self.conversion is not None:
            return _converted(field, found, self.conversion)
        return found

    def _translated(self, field: str, found: Any, values: dict[str, Constant]) -> Constant:
        # Translation keys are JSON object keys, so a non-text source value is
        # looked up by its JSON text: true, 42.
        key = found if isinstance(found, str) else json.dumps(found)
        if key in values:
            return values[key]
        fallback = self.otherwise if self.otherwise is not None else self.default
        if fallback is None:
            known = ", ".join(repr(value) for value in values)
            raise MappingError(field, f"{found!r} is not one of {known}")
        return fallback


class RecordMapping(RootModel[dict[str, FieldSpec]]):
    """Our field name → where it comes from; a plain string is a path."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _path_shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                field: {"path": spec} if isinstance(spec, str) else spec
                for field, spec in data.items()
            }
        return data


class SourceMapping(RootModel[dict[RecordCollection, RecordMapping]]):
    """A source's mapping for each kind of record it sends."""

    model_config = ConfigDict(frozen=True)


def apply_mapping(record: Any, mapping: RecordMapping) -> dict[str, Any]:
    """Our generic JSON record for a source record; fields without a value are left out."""
    mapped = {field: spec.read(field, record) for field, spec in mapping.root.items()}
    return {field: value for field, value in mapped.items() if value is not None}


def path_when(path: str, tested: str, one_of: Iterable[str], *, holds: bool = True) -> str:
    """A JMESPath expression giving `path` while `tested` is one of `one_of` (with
    `holds=False`: is not), and null otherwise. A CRM's close date, say, is the
    date a closed deal closed but the date an open one is expected to."""
    # A backquoted JSON literal is a JMESPath literal; a backquote inside it is escaped.
    listed = json.dumps(list(one_of)).replace("`", "\\`")
    condition = f"contains(`{listed}`, {tested})"
    return f"{'' if holds else '!'}{condition} && {path} || `null`"


def _converted(field: str, value: Any, conversion: Conversion) -> str | int:
    """`value` read `as` the conversion says, JSON-ready: decimals, dates and
    date-times as ISO text."""
    try:
        return _CONVERSIONS[conversion](value)
    except (ValueError, TypeError, ArithmeticError) as error:
        raise MappingError(field, f"cannot read {value!r} as {conversion}: {error}") from None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError("expected text or a whole number")


def _decimal_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise TypeError("expected a number or its text")
    # A JSON number that the caller parsed as float is read from its shortest
    # repr, which is the literal the CRM wrote as long as that had at most 15
    # significant digits; parsing JSON with parse_float=Decimal avoids the question.
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not number.is_finite():
        raise ValueError("not a finite number")
    return format(number, "f")


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("expected a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    raise TypeError("expected a whole number")


def _iso_date(value: Any) -> str:
    """An ISO date, or the date part of an ISO date-time as written (in its own
    offset, not converted to UTC)."""
    if not isinstance(value, str):
        raise TypeError("expected an ISO 8601 date")
    return datetime.fromisoformat(value).date().isoformat()


def _iso_datetime(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected an ISO 8601 date-time")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a date-time needs a UTC offset, e.g. Z or +02:00")
    return moment.isoformat()


def _epoch_ms(value: Any) -> datetime:
    return EPOCH + timedelta(milliseconds=_integer(value))


def _is_epoch_ms(value: Any) -> bool:
    # HubSpot sends a date either as epoch milliseconds or as ISO text; ISO's
    # basic format (20240331) is all digits too, but no CRM we read sends it.
    if isinstance(value, str):
        return value.removeprefix("-").isdigit()
    return isinstance(value, int) and not isinstance(value, bool)


_CONVERSIONS: dict[Conversion, Callable[[Any], str | int]] = {
    "string": _text,
    "decimal": _decimal_text,
    "int": _integer,
    "date": _iso_date,
    "datetime": _iso_datetime,
    "epoch_ms_date": lambda value: _epoch_ms(value).date().isoformat(),
    "epoch_ms_datetime": lambda value: _epoch_ms(value).isoformat(),
    "date_or_epoch_ms": lambda value: (
        _epoch_ms(value).date().isoformat() if _is_epoch_ms(value) else _iso_date(value)
    ),
    "datetime_or_epoch_ms": lambda value: (
        _epoch_ms(value).isoformat() if _is_epoch_ms(value) else _iso_datetime(value)
    ),
}
