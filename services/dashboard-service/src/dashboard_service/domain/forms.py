"""Reading what a planner or an admin types into a form before it becomes a
request body. Only the shape is checked here (a number is a number, JSON is
JSON); what the values mean is the API's to judge, so its 422 names the field."""

import json
import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

PAIR_SEPARATORS = re.compile(r"[,;\n]+")


class Fault(StrEnum):
    """Why a field cannot be read; the page says it in the reader's language."""

    NOT_A_NUMBER = "not_a_number"
    NOT_PAIRS = "not_pairs"
    NOT_JSON = "not_json"
    NOT_A_LIST = "not_a_list"
    NOT_AN_OBJECT = "not_an_object"
    REQUIRED = "required"


class FormError(ValueError):
    def __init__(self, field: str, fault: Fault, detail: str = "") -> None:
        super().__init__(f"{field}: {fault} {detail}".strip())
        self.field = field
        self.fault = fault
        self.detail = detail  # the offending text or the parser's position, for the reader


def decimal_of(text: str, field: str) -> Decimal | None:
    """A number as typed, or None when the field is left empty."""
    cleaned = text.strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise FormError(field, Fault.NOT_A_NUMBER, cleaned) from None
    if not value.is_finite():
        raise FormError(field, Fault.NOT_A_NUMBER, cleaned)
    return value


def decimals_of(text: str, field: str) -> list[Decimal]:
    """Numbers separated by commas, semicolons or lines (e.g. twelve month shares)."""
    values = []
    for piece in PAIR_SEPARATORS.split(text):
        value = decimal_of(piece, field)
        if value is not None:
            values.append(value)
    return values


def pairs_of(text: str, field: str) -> dict[str, Decimal]:
    """`east=2, west=1` (or `east: 2` a line): a number per id, as weights,
    floors and caps are given."""
    pairs: dict[str, Decimal] = {}
    for piece in PAIR_SEPARATORS.split(text):
        if not piece.strip():
            continue
        parts = re.split(r"[=:]", piece, maxsplit=1)
        if len(parts) != 2 or not parts[0].strip():
            raise FormError(field, Fault.NOT_PAIRS, piece.strip())
        key, value = parts
        number = decimal_of(value, field)
        if number is None:
            raise FormError(field, Fault.NOT_PAIRS, piece.strip())
        pairs[key.strip()] = number
    return pairs


def json_of(text: str, field: str, *, kind: type[list[Any]] | type[dict[str, Any]]) -> Any:
    """A JSON list or object typed into an editor; numbers are kept as typed
    (Decimal), never rounded through a float."""
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise FormError(
            field, Fault.NOT_JSON, f"{error.msg} ({error.lineno}:{error.colno})"
        ) from None
    if not isinstance(value, kind):
        raise FormError(field, Fault.NOT_A_LIST if kind is list else Fault.NOT_AN_OBJECT)
    return value


def jsonable(value: Any) -> Any:
    """Decimals as strings, the way every Attain API takes money and ratios."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value
