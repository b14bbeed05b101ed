"""One list envelope and one way to page, for every list of every service:
`{data, count, next_after}` answered to `?limit=&after=`. `count` is how many
items the caller may see in all; `next_after` is the key of the page's last
item when more follow, computed after the caller's scope has filtered the list
(a cursor from the unfiltered rows would hand out an id the caller may not see)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from servicekit.problems import InvalidInput

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    data: list[Item]
    count: int = Field(description="how many items the caller may see, over all pages")
    next_after: str | None = Field(
        default=None, description="pass as `after` for the next page; null on the last"
    )


@dataclass(frozen=True)
class Paging:
    limit: int = DEFAULT_LIMIT
    after: str | None = None


def paging_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="at most this many items")
    ] = DEFAULT_LIMIT,
    after: Annotated[
        str | None, Query(min_length=1, description="the `next_after` of the previous page")
    ] = None,
) -> Paging:
    return Paging(limit=limit, after=after)


PagingDep = Annotated[Paging, Depends(paging_params)]


@dataclass(frozen=True)
class Slice(Generic[Item]):
    data: list[Item]
    count: int
    next_after: str | None


def page_of(items: Sequence[Item], paging: Paging, key: Callable[[Item], str]) -> Slice[Item]:
    """A page of a list already filtered to what the caller may see, in its order.
    The cursor is the key of the last item given; one that is not in the list
    (removed since, or never the caller's) is refused rather than restarting."""
    start = 0
    if paging.after is not None:
        keys = [key(item) for item in items]
        if paging.after not in keys:
            raise InvalidInput("not an item of this list; start again without it", field="after")
        start = keys.index(paging.after) + 1
    data = list(items[start : start + paging.limit])
    more = start + paging.limit < len(items)
    return Slice(data, len(items), key(data[-1]) if more and data else None)
