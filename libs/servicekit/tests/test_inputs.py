"""What every input model refuses before it reaches PostgreSQL or a date computation: NUL
bytes anywhere in text, text past its maximum length, days outside the supported years,
whole numbers past 64 bits; and CSV files a spreadsheet writes, bare carriage returns too."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from servicekit.inputs import TEXT_MAX_LENGTH, InputModel, csv_rows, storable
from servicekit.problems import InvalidInput

pytestmark = pytest.mark.unit


class Part(BaseModel):
    label: str


class Thing(InputModel):
    name: str
    tags: list[str] = []
    on: date | None = None
    at: datetime | None = None
    count: int = 0
    extra: dict[str, object] = {}
    part: Part | None = None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a\x00b"}, "name"),
        ({"name": "a", "tags": ["ok", "b\x00"]}, "tags"),
        ({"name": "a", "extra": {"k\x00": 1}}, "extra"),
        ({"name": "a", "part": {"label": "\x00"}}, "part"),
        ({"name": "x" * (TEXT_MAX_LENGTH + 1)}, "name"),
        ({"name": "a", "on": "0001-01-01"}, "on"),
        ({"name": "a", "at": "9999-12-31T23:00:00-05:00"}, "at"),
        ({"name": "a", "count": 2**63}, "count"),
    ],
)
def test_unstorable_input_fails_naming_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Thing.model_validate(body)
    assert raised.value.errors()[0]["loc"][0] == field


def test_storable_input_passes_unchanged() -> None:
    thing = Thing.model_validate(
        {"name": "Ann", "on": "2026-03-01", "at": "2026-03-01T09:00:00+08:00", "count": 2**62}
    )
    assert thing.at == datetime(2026, 3, 1, 1, tzinfo=UTC)


@given(st.text())
def test_text_is_storable_exactly_when_it_holds_no_nul(text: str) -> None:
    if "\x00" in text:
        with pytest.raises(ValueError):
            storable(text)
    else:
        assert storable(text) == text


def test_a_bare_carriage_return_ends_a_csv_row() -> None:
    assert list(csv_rows(b"id,name\rD-1,Ann\r")) == [(1, ["id", "name"]), (2, ["D-1", "Ann"])]


def test_a_quoted_cell_spanning_lines_is_one_row() -> None:
    rows = list(csv_rows(b'id,note\r\nD-1,"two\r\nlines"\r\nD-2,x\r\n'))
    assert rows == [(1, ["id", "note"]), (2, ["D-1", "two\r\nlines"]), (3, ["D-2", "x"])]


@pytest.mark.parametrize("raw", [b"id\x00,name\n1,2", b"\xff\xfe"])
def test_a_csv_that_cannot_be_read_is_a_422_naming_the_file(raw: bytes) -> None:
    with pytest.raises(InvalidInput) as raised:
        list(csv_rows(raw))
    assert raised.value.field == "file"
