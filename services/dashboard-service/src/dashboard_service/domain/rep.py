"""What a rep's "my goals" page computes from the figures the services answer
with: which statement is the current one, the rep's row on the leaderboard, the
chart's series and the what-if deals typed into the form. No I/O."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

WHAT_IF_ROWS = 3


class InvalidWhatIf(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def current_statement(summaries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The open statement of the latest period (a later one that is closed is history;
    an earlier open one is waiting to be closed)."""
    open_ = [s for s in summaries if s.get("status") == "open"]
    chosen = open_ or list(summaries)
    return max(chosen, key=lambda s: str(s["period_key"]), default=None)


def current_unit(memberships: Sequence[Mapping[str, Any]], today: date) -> str | None:
    """The org unit the person belongs to today."""
    for membership in sorted(memberships, key=lambda m: str(m["valid_from"]), reverse=True):
        starts = date.fromisoformat(str(membership["valid_from"]))
        ends = membership.get("valid_to")
        if starts <= today and (ends is None or today < date.fromisoformat(str(ends))):
            return str(membership["org_unit_id"])
    return None


@dataclass(frozen=True)
class Standing:
    rank: int | None
    of: int
    attainment: Decimal | None


def standing_of(rows: Sequence[Mapping[str, Any]], person_id: str) -> Standing | None:
    """The person's rank on the board, and how many are ranked on it."""
    ranked = [row for row in rows if row.get("rank") is not None]
    for row in rows:
        if row["person_id"] == person_id:
            attainment = row.get("attainment")
            return Standing(
                rank=row.get("rank"),
                of=len(ranked),
                attainment=None if attainment is None else Decimal(str(attainment)),
            )
    return None


@dataclass(frozen=True)
class Series:
    """The chart's x axis and its two lines, as decimal strings (ECharts reads them)."""

    days: list[str]
    actual: list[str]
    expected: list[str]


def progress_series(points: Sequence[Mapping[str, Any]]) -> Series:
    return Series(
        days=[str(p["on"]) for p in points],
        actual=[str(Decimal(str(p["actual"]))) for p in points],
        expected=[str(Decimal(str(p["expected_to_date"]))) for p in points],
    )


def what_if_deals(amounts: Sequence[str]) -> list[Decimal]:
    """The amounts typed into the what-if form: blanks skipped, grouping commas
    allowed; anything else names its row (`amount.0`, ...)."""
    deals = []
    for index, typed in enumerate(amounts):
        text = typed.strip().replace(",", "")
        if not text:
            continue
        try:
            amount = Decimal(text)
        except InvalidOperation as error:
            raise InvalidWhatIf(f"{typed!r} is not an amount", f"amount.{index}") from error
        if not amount.is_finite() or amount <= 0:
            raise InvalidWhatIf("an amount must be more than zero", f"amount.{index}")
        deals.append(amount)
    if not deals:
        raise InvalidWhatIf("enter at least one deal's amount", "amount.0")
    return deals
