"""The newest change per key in one batch, the rule every copy applies a batch by."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicekit.db import newest_versions
from servicekit.newest import newest_by

pytestmark = pytest.mark.unit

changes = st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 5), st.integers()))


@given(changes)
def test_the_newest_of_each_key_is_kept_and_a_tie_keeps_the_first(
    batch: list[tuple[str, int, int]],
) -> None:
    kept = newest_by(batch, lambda c: c[0], lambda c: c[1])
    assert set(kept) == {key for key, _, _ in batch}
    for key, change in kept.items():
        same_key = [c for c in batch if c[0] == key]
        highest = max(rank for _, rank, _ in same_key)
        assert change == next(c for c in same_key if c[1] == highest)


def test_rows_keep_their_highest_version() -> None:
    rows = [{"id": "u1", "version": 2}, {"id": "u1", "version": 3}, {"id": "u2", "version": 1}]
    assert newest_versions(rows) == [{"id": "u1", "version": 3}, {"id": "u2", "version": 1}]
