"""Which goals a replay asks tracking-service about: those whose copy holds
progress of a later day (in the goal's time zone) than the instant replayed."""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from alert_service.clients.tracking import ProgressFigures
from alert_service.service_layer.evaluation import _figures_as_of
from servicekit.clock import local_day

pytestmark = pytest.mark.unit

T = datetime(2026, 6, 15, 12, tzinfo=UTC)


class History:
    def __init__(self, known: Mapping[str, ProgressFigures]) -> None:
        self.known = known
        self.asked: list[tuple[list[str], datetime]] = []

    async def progress_at(
        self, goal_ids: Iterable[str], as_of: datetime
    ) -> Mapping[str, ProgressFigures]:
        ids = sorted(goal_ids)
        self.asked.append((ids, as_of))
        return {g: self.known[g] for g in ids if g in self.known}


async def test_only_a_copy_of_a_later_day_is_replaced_by_the_progress_as_of_then() -> None:
    rows = {
        "same-day": SimpleNamespace(progress_as_of=T.replace(hour=23), timezone="UTC"),
        "earlier": SimpleNamespace(progress_as_of=T.replace(day=10), timezone="UTC"),
        "none-yet": SimpleNamespace(progress_as_of=None, timezone="UTC"),
        "later": SimpleNamespace(progress_as_of=T.replace(day=25), timezone="UTC"),
        # T is the 15th at 20:00 in Shanghai; the copy, 23:00 UTC, the 16th at 07:00.
        "later-there": SimpleNamespace(progress_as_of=T.replace(hour=23), timezone="Asia/Shanghai"),
        "unknown": SimpleNamespace(progress_as_of=T.replace(day=20), timezone="UTC"),
    }
    figures = ProgressFigures(Decimal(100_000), None)
    history = History({"later": figures, "later-there": figures})
    days = {goal_id: local_day(T, row.timezone) for goal_id, row in rows.items()}

    found = await _figures_as_of(history, rows, dict.fromkeys(rows, T), days)

    assert history.asked == [(["later", "later-there", "unknown"], T)]
    # A goal tracking-service does not know keeps the copy's figures.
    assert found == {"later": figures, "later-there": figures}


async def test_without_a_history_nothing_is_asked() -> None:
    rows = {"later": SimpleNamespace(progress_as_of=T.replace(day=25), timezone="UTC")}
    assert await _figures_as_of(None, rows, {"later": T}, {"later": T.date()}) == {}
