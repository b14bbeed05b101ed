"""What every service accepts from outside, bounded so that whatever passes validation can be
stored and computed on: text without NUL bytes (PostgreSQL refuses them in text and JSONB) and
of a bounded length, days and instants in years a calendar computation cannot overflow, and
offsets PostgreSQL's bigint holds. Input models derive from `InputModel`; query and path
parameters use the annotated types; files go through `csv_rows`."""

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from servicekit.problems import InvalidInput

# Long enough for a rationale or a reason; anything longer is not a field but a payload.
TEXT_MAX_LENGTH = 2000
# Business dates live here; outside it, adding a year or converting a zone can leave what
# Python's date and PostgreSQL's can hold (`0001-01-01` minus a day).
EARLIEST_YEAR = 1900
LATEST_YEAR = 2999
MAX_OFFSET = 1_000_000_000


def refuse_nul(value: Any) -> Any:
    """`value` unchanged when no text in it holds a NUL byte."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def storable(value: Any) -> Any:
    """`value` unchanged when all of it can be stored and computed on: text without NUL, days
    within the years, whole numbers that fit a bigint; in lists and mappings too."""
    if isinstance(value, str):
        refuse_nul(value)
    elif isinstance(value, date):
        _within_years(value if not isinstance(value, datetime) else value.date())
    elif isinstance(value, int) and not isinstance(value, bool):
        if not -(2**63) <= value < 2**63:
            raise ValueError("must fit in 64 bits")
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            storable(getattr(value, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key)
            storable(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            storable(item)
    return value


def _within_years(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be within the years {EARLIEST_YEAR} to {LATEST_YEAR}")
    return value


def _instant_within_years(value: datetime) -> datetime:
    _within_years(value.date())
    return value


class InputModel(BaseModel):
    """Base of every request model: no unknown fields, every text bounded (a field may declare
    a shorter or longer maximum of its own), and every value `storable`."""

    model_config = ConfigDict(extra="forbid", str_max_length=TEXT_MAX_LENGTH)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable(value)


Day = Annotated[date, AfterValidator(_within_years)]
AwareInstant = Annotated[AwareDatetime, AfterValidator(_instant_within_years)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]


def fits_numeric(precision: int, scale: int) -> Any:
    """The bounds of a decimal whose whole part fits a `NUMERIC(precision, scale)` column
    (PostgreSQL rounds the fraction to the scale, but refuses a whole part that does not fit):
    `Annotated[Decimal, fits_numeric(20, 4)]`."""
    bound = Decimal(10) ** (precision - scale)
    return Field(gt=-bound, lt=bound)


def csv_rows(raw: bytes, *, field: str = "file") -> Iterator[tuple[int, list[str]]]:
    """(row, cells) per record of a UTF-8 CSV, counted as a spreadsheet counts rows (a quoted
    cell spanning lines is one row; a bare carriage return ends one, as old spreadsheets write
    them). A file that cannot be read is a 422 naming `field`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"the file is not UTF-8 text: {error}", field=field) from error
    if "\x00" in text:
        raise InvalidInput("the file must not contain NUL characters", field=field)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as error:
        raise InvalidInput(
            f"the CSV cannot be read at line {reader.line_num}: {error}", field=field
        ) from error
