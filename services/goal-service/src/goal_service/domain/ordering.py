"""The order a file's rows are applied in: parents before children."""

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def parents_first(parent_of: Mapping[K, K | None]) -> tuple[list[K], dict[K, list[K]]]:
    """The keys ordered so that each comes after its parent when the parent is a key
    too (ties in their given order), and apart, each key on a cycle of parents with
    that cycle (`a → b → a`). A key under a cycle counts as a root: its parent will
    not be applied from the file, though it may exist already."""
    position = {key: index for index, key in enumerate(parent_of)}
    depth: dict[K, int] = {}
    cycles: dict[K, list[K]] = {}
    for start in parent_of:
        chain: dict[K, None] = {}  # ordered, and a quick `in` on a deep tree
        node: K | None = start
        while (
            node is not None
            and node in parent_of
            and node not in depth
            and node not in cycles
            and node not in chain
        ):
            chain[node] = None
            node = parent_of[node]
        walked = list(chain)
        if node in chain:
            loop = walked[walked.index(node) :]
            for i, member in enumerate(loop):
                cycles[member] = [*loop[i:], *loop[:i], member]
            walked = walked[: walked.index(node)]
        base = depth.get(node, -1) if node is not None else -1
        for member in reversed(walked):
            base += 1
            depth[member] = base
    return sorted(depth, key=lambda key: (depth[key], position[key])), cycles
