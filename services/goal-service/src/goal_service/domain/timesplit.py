"""The time split of DOMAIN.md §5.2: a target over a period becomes targets per
half, quarter, month and week, shaped by a seasonality profile, each level
adding up exactly to the level above."""

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from attain_contracts import Period
from attain_contracts.calendar import GRAINS, FiscalCalendar, Grain, days_in_month, days_of
from goal_service.domain.errors import InputError
from servicekit.money import largest_remainder

# A month's share is spread evenly over its days. Dividing by 31 would leave a
# rounded Decimal per day and could flip a largest-remainder tie; scaling by
# lcm(28, 29, 30, 31) keeps every day weight exact. Only ratios of weights
# matter, so the scale is invisible in the split.
DAYS_LCM = 377_580


class TimeSplitError(InputError):
    """A period that cannot be split so."""

    def __init__(self, reason: str) -> None:
        super().__init__(None, reason)


@dataclass(frozen=True)
class Percentages:
    """Percent of the target per calendar month (1..12). Every percentage given
    counts towards the 100, not only those of the months the split touches:
    a profile is one year's shape, and a quarter takes its part of it."""

    by_month: Mapping[int, Decimal]

    def __post_init__(self) -> None:
        _check_months(self.by_month, "percentage")
        total = sum(self.by_month.values(), Decimal(0))
        if total != 100:
            raise TimeSplitError(f"monthly percentages must sum to 100, not {total}")


@dataclass(frozen=True)
class LastYearShares:
    """Last year's actual per calendar month (1..12); a month not given had
    none. When the months the split touches had none at all, the split falls
    back to calendar days and says so."""

    by_month: Mapping[int, Decimal]

    def __post_init__(self) -> None:
        _check_months(self.by_month, "actual")


@dataclass(frozen=True)
class WorkingDays:
    """One share per working day of the calendar (weekends and holidays get none)."""


@dataclass(frozen=True)
class CalendarDays:
    """One share per day."""


Profile = Percentages | LastYearShares | WorkingDays | CalendarDays


@dataclass(frozen=True)
class TimeSlice:
    """`parent` is the slice of the next coarser grain this one was cut from;
    None when it was cut from the split period itself."""

    period: Period
    grain: Grain
    target: Decimal
    parent: Period | None


@dataclass(frozen=True)
class TimeSplit:
    """`slices` level by level, coarse to fine, each level in date order.
    `milestones` are the cumulative targets at the end of every first-level
    piece, including pieces that got nothing, so the last is always the split
    period's end and the whole target."""

    slices: list[TimeSlice]
    fell_back: bool
    milestones: list[tuple[date, Decimal]]


def day_weights(period: Period, profile: Profile, calendar: FiscalCalendar) -> dict[date, Decimal]:
    """Relative weight of each day of `period`; only their ratios matter."""
    if isinstance(profile, WorkingDays):
        return {day: Decimal(calendar.is_working_day(day)) for day in days_of(period)}
    if isinstance(profile, CalendarDays):
        return dict.fromkeys(days_of(period), Decimal(1))
    if isinstance(profile, Percentages):
        missing = sorted({day.month for day in days_of(period)} - set(profile.by_month))
        if missing:
            raise TimeSplitError(f"no percentage given for month(s) {missing} of the period")
    return {
        day: profile.by_month.get(day.month, Decimal(0)) * (DAYS_LCM // days_in_month(day))
        for day in days_of(period)
    }


def split_time(
    target: Decimal,
    period: Period,
    grains: Sequence[Grain],
    profile: Profile,
    calendar: FiscalCalendar,
    unit: Decimal = Decimal(1),
) -> TimeSplit:
    """Each level's slices are the grain's calendar periods clipped to their
    parent slice, so a week crossing a month end becomes one piece under each
    month, split by days (DOMAIN.md §5.2), each keeping the week's key. Slices with no weight or a
    zero target are left out; the others still add up to their parent."""
    _check_grains(grains)
    if target < 0:
        raise TimeSplitError(f"target {target} is negative")
    if target % unit != 0:
        raise TimeSplitError(f"target {target} is not a multiple of the unit {unit}")
    pieces, fell_back = _shape(period, tuple(grains), _profile_key(profile), calendar)
    slices: list[TimeSlice] = []
    milestones: list[tuple[date, Decimal]] = []
    parents: list[tuple[tuple[_Piece, ...], Decimal, Period | None]] = [(pieces, target, None)]
    for level, grain in enumerate(grains):
        children: list[tuple[tuple[_Piece, ...], Decimal, Period | None]] = []
        for below, parent_target, parent_slice in parents:
            shares = largest_remainder(parent_target, [p.weight for p in below], unit)
            if level == 0:  # one parent, the split period itself
                milestones = _cumulative([p.period for p in below], shares)
            for piece, share in zip(below, shares, strict=True):
                if piece.weight and share:
                    slices.append(TimeSlice(piece.period, grain, share, parent_slice))
                    children.append((piece.children, share, piece.period))
        parents = children
    return TimeSplit(slices=slices, fell_back=fell_back, milestones=milestones)


@dataclass(frozen=True)
class _Piece:
    """A calendar period of one level with its weight and the pieces below it."""

    period: Period
    weight: Decimal
    children: tuple["_Piece", ...]


ProfileKey = tuple[str, tuple[tuple[int, Decimal], ...]]


def _profile_key(profile: Profile) -> ProfileKey:
    by_month = getattr(profile, "by_month", {})
    return type(profile).__name__, tuple(sorted(by_month.items()))


@functools.lru_cache(maxsize=256)
def _shape(
    period: Period, grains: tuple[Grain, ...], profile_key: ProfileKey, calendar: FiscalCalendar
) -> tuple[tuple[_Piece, ...], bool]:
    """The levels of a split and their weights, which depend on the period, not
    on the target: a plan splits thousands of goals over the same year."""
    weights = day_weights(period, _profile_of(profile_key), calendar)
    fell_back = profile_key[0] == "LastYearShares" and not any(weights.values())
    if fell_back:
        weights = day_weights(period, CalendarDays(), calendar)
    if not any(weights.values()):
        raise TimeSplitError(
            f"the profile gives no weight to any day of {period.start}..{period.end}"
        )

    def pieces(parent: Period, level: int) -> tuple[_Piece, ...]:
        if level == len(grains):
            return ()
        return tuple(
            _Piece(
                piece,
                sum((weights[d] for d in days_of(piece)), Decimal(0)),
                pieces(piece, level + 1),
            )
            for piece in _cut(calendar, parent, grains[level])
        )

    return pieces(period, 0), fell_back


def _cut(calendar: FiscalCalendar, parent: Period, grain: Grain) -> list[Period]:
    """The `grain` periods of `parent`, clipped to it. A week cut at a month
    end is still its ISO week, so both parts keep the week's key (2026-W05):
    a week's goals are found by the key whichever month they fall under."""
    pieces = calendar.periods(parent, grain)
    if grain != "week":
        return pieces
    return [
        piece if piece.key else piece.model_copy(update={"key": _week_key(calendar, piece)})
        for piece in pieces
    ]


def _week_key(calendar: FiscalCalendar, piece: Period) -> str | None:
    return calendar.containing(piece.start, "week").key


def _profile_of(key: ProfileKey) -> Profile:
    kind, by_month = key
    profiles: dict[str, Callable[[], Profile]] = {
        "Percentages": lambda: Percentages(dict(by_month)),
        "LastYearShares": lambda: LastYearShares(dict(by_month)),
        "WorkingDays": WorkingDays,
        "CalendarDays": CalendarDays,
    }
    return profiles[kind]()


def _cumulative(pieces: list[Period], shares: list[Decimal]) -> list[tuple[date, Decimal]]:
    running = Decimal(0)
    milestones = []
    for piece, share in zip(pieces, shares, strict=True):
        running += share
        milestones.append((piece.end, running))
    return milestones


def _check_grains(grains: Sequence[Grain]) -> None:
    allowed = GRAINS[1:]  # the year is what gets split (§5.2), never a level of it
    known = bool(grains) and all(grain in allowed for grain in grains)
    if not known or sorted(set(grains), key=GRAINS.index) != list(grains):
        raise TimeSplitError(
            f"grains {list(grains)} must be one or more of {', '.join(allowed)}, "
            "coarse to fine, each once"
        )


def _check_months(by_month: Mapping[int, Decimal], what: str) -> None:
    if bad := sorted(month for month in by_month if not 1 <= month <= 12):
        raise TimeSplitError(f"months must be 1 to 12, not {bad}")
    if negative := sorted(month for month, value in by_month.items() if value < 0):
        raise TimeSplitError(f"{what} of month(s) {negative} is negative")
