"""Reading an imported file: a CSV or XLSX whose first row names the columns,
into its non-empty rows, each with its line as the spreadsheet numbers it
(header = 1). A file that cannot be read is refused naming what is wrong."""

import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal

import openpyxl

from goal_service.service_layer.inputs import GoalCreate
from servicekit.errors import FieldError
from servicekit.inputs import csv_rows

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

Form = Literal["csv", "xlsx"]


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]  # the non-empty cells by column


def rows_of(
    form: Form, raw: bytes, columns: Collection[str], *, required: Collection[str]
) -> list[Row]:
    """The file's data rows, or a FieldError naming what makes the file unreadable."""
    lines = _xlsx_lines(raw) if form == "xlsx" else csv_rows(raw)
    first = next(lines, None)
    names = [name.strip().lower() for name in first[1]] if first else []
    if not any(names):
        raise FieldError("file", "the file has no header row naming its columns")
    for name in names:
        if name and name not in columns:
            raise FieldError(name, f"unknown column {name}; the columns are {', '.join(columns)}")
        if name and names.count(name) > 1:
            raise FieldError(name, f"column {name} appears twice")
    for name in required:
        if name not in names:
            raise FieldError(name, f"the file has no {name} column")
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
            raise FieldError("file", f"at most {MAX_ROWS} rows a file")
        rows.append(Row(line, cells))
    if not rows:
        raise FieldError("file", "the file has no rows below its header")
    return rows


def form_of(content_type: str, filename: str) -> Form:
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
    raise FieldError("file", f"send a CSV (text/csv) or an XLSX file, not {sent}")


def _xlsx_lines(raw: bytes) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) per row of the first sheet."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
    except Exception as error:  # openpyxl fails on a malformed file with many kinds of error
        raise FieldError("file", f"the file is not a readable XLSX workbook: {error}") from error
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
