"""Statements over many keys, a chunk at a time."""

from collections.abc import Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")
# PostgreSQL takes at most 32,767 bind parameters per statement.
CHUNK = 2000
# Rows SQLAlchemy sends in one INSERT of many ("insertmanyvalues" page). An insert that
# returns rows gets at most this many a call: within one call SQLAlchemy joins each page's
# results to all the pages before it, which grows with the square of the pages.
ROWS_A_PAGE = 1000


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
