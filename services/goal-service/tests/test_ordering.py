"""The order an import applies its rows in: parents first, cycles apart."""

import pytest

from goal_service.domain.ordering import parents_first

pytestmark = pytest.mark.unit


def test_parents_come_first_and_ties_keep_the_files_order() -> None:
    order, cycles = parents_first({"team": "region", "rep": "team", "region": None, "hq": None})
    assert order == ["region", "hq", "team", "rep"]
    assert cycles == {}


def test_a_cycle_is_set_apart_and_what_hangs_below_it_counts_as_a_root() -> None:
    order, cycles = parents_first({"a": "b", "b": "a", "c": "a", "d": "elsewhere"})
    assert cycles == {"a": ["a", "b", "a"], "b": ["b", "a", "b"]}
    assert order == ["c", "d"]
