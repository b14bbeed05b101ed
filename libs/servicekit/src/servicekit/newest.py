"""The newest change per key in one batch: a batch may carry several changes of one
thing (a goal's progress, a unit's version), and only the newest is applied."""

from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

ItemT = TypeVar("ItemT")


def newest_by(
    items: Iterable[ItemT], key: Callable[[ItemT], Hashable], rank: Callable[[ItemT], Any]
) -> dict[Hashable, ItemT]:
    """The item of highest `rank` (a version, a sequence) per `key`; a tie keeps the first."""
    kept: dict[Hashable, ItemT] = {}
    for item in items:
        held = kept.get(key(item))
        if held is None or rank(item) > rank(held):
            kept[key(item)] = item
    return kept
