"""Statements over many keys, a chunk at a time."""

from collections.abc import Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")
# PostgreSQL takes at most 32,767 bind parameters per statement.
CHUNK = 2000
# Rows of one INSERT sent as many (SQLAlchemy's "insertmanyvalues" page). An insert that
# returns rows is given no more a call: SQLAlchemy splices the pages' results together,
# copying all earlier rows for each page.
ROWS_A_PAGE = 1000


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
