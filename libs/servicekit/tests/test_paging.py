"""The one way every list pages: a cursor that is the last key of a page."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicekit.paging import Paging, page_of
from servicekit.problems import InvalidInput

pytestmark = pytest.mark.unit


@given(
    st.lists(st.text(min_size=1, max_size=4), unique=True, max_size=30),
    st.integers(min_value=1, max_value=7),
)
def test_following_the_cursor_yields_every_item_once_in_order(keys: list[str], limit: int) -> None:
    seen: list[str] = []
    after: str | None = None
    while True:
        page = page_of(keys, Paging(limit=limit, after=after), key=str)
        assert page.count == len(keys)
        assert len(page.data) <= limit
        seen += page.data
        if page.next_after is None:
            break
        assert page.next_after == page.data[-1]
        after = page.next_after
    assert seen == keys


def test_a_cursor_not_in_the_list_is_refused_naming_after() -> None:
    with pytest.raises(InvalidInput) as refused:
        page_of(["a", "b"], Paging(limit=1, after="someone-elses"), key=str)
    assert refused.value.field == "after"
