"""Leaderboards, badges and scorecards (DOMAIN.md §7): people are ranked by
attainment, not by amount, so a small territory can top the board; badges
recognise the quarterly champion (季度销售冠军), the 100% club and streaks; a
scorecard blends results, process and growth into one score."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from servicekit.money import CENT, round_half_up

ONE = Decimal(1)
HUNDRED = Decimal(100)
TENTH = Decimal("0.1")
# The process metrics of DOMAIN.md §2: a scorecard's process part is their goals' completion.
PROCESS_METRICS = ("leads_created", "opportunities_created", "activities")


@dataclass(frozen=True)
class Standing:
    """One person in one period, as the caller read it from goals and the ledger."""

    person_id: str
    name: str
    org_unit_id: str
    target: Decimal | None
    actual: Decimal

    @property
    def attainment(self) -> Decimal | None:
        if self.target is None or self.target <= 0:
            return None
        return self.actual / self.target


@dataclass(frozen=True)
class Ranked:
    """`rank` is a competition rank ("1224"), None for someone without a usable quota."""

    rank: int | None
    standing: Standing


def leaderboard(standings: Iterable[Standing]) -> list[Ranked]:
    """Best attainment first; a tie shares the rank and is listed by actual, then
    person id, so the board never depends on the order the caller read it in.
    People without a quota have nothing to rank by and come last."""
    everyone = list(standings)
    _require_each_person_once(everyone)
    with_quota = sorted(
        (standing for standing in everyone if standing.attainment is not None),
        key=lambda standing: (-_attainment(standing), -standing.actual, standing.person_id),
    )
    without_quota = sorted(
        (standing for standing in everyone if standing.attainment is None),
        key=lambda standing: standing.person_id,
    )
    board: list[Ranked] = []
    for position, standing in enumerate(with_quota, start=1):
        tied_with_previous = bool(board) and _attainment(board[-1].standing) == _attainment(
            standing
        )
        rank = board[-1].rank if tied_with_previous else position
        board.append(Ranked(rank, standing))
    board.extend(Ranked(None, standing) for standing in without_quota)
    return board


def _require_each_person_once(standings: Sequence[Standing]) -> None:
    # Two rows for one person means the caller merged periods or units wrongly;
    # ranking both would also make the board depend on input order.
    seen: set[str] = set()
    for standing in standings:
        if standing.person_id in seen:
            raise ValueError(f"{standing.person_id} appears twice on one leaderboard")
        seen.add(standing.person_id)


def _attainment(standing: Standing) -> Decimal:
    attainment = standing.attainment
    if attainment is None:
        raise ValueError(f"{standing.person_id} has no attainment")
    return attainment


@dataclass(frozen=True)
class BadgeEarned:
    badge: str
    person_id: str
    period_key: str
    reason: str


def champions(board: Sequence[Ranked], period_key: str) -> list[BadgeEarned]:
    """The quarterly champion: everyone ranked first wins, ties included, as long as
    they sold something; a board where the best is at 0% has no champion."""
    first = [entry for entry in board if entry.rank == 1 and _attainment(entry.standing) > 0]
    place = "joint first" if len(first) > 1 else "first"
    return [
        BadgeEarned(
            "quarterly_champion",
            entry.standing.person_id,
            period_key,
            f"{place} with {_percent(_attainment(entry.standing))} of quota in {period_key}",
        )
        for entry in first
    ]


def club_100(board: Sequence[Ranked], period_key: str) -> list[BadgeEarned]:
    """The 100% club: everyone who reached their quota, exactly 100% included."""
    return [
        BadgeEarned(
            "club_100",
            entry.standing.person_id,
            period_key,
            f"{_percent(_attainment(entry.standing))} of quota in {period_key}",
        )
        for entry in board
        if entry.standing.attainment is not None and entry.standing.attainment >= ONE
    ]


STREAKS = (3, 6, 12)


def streaks(person_id: str, months: Sequence[tuple[str, Decimal | None]]) -> list[BadgeEarned]:
    """`months` are the person's consecutive closed months, oldest first, ending with
    the month just closed. A streak badge is earned in the month the run at 100% or
    more reaches exactly its length, so it is awarded once, not again every month
    the run goes on. A month without a quota breaks the run."""
    if not months:
        return []
    run = _run_at_quota(attainment for _, attainment in months)
    last_key = months[-1][0]
    return [
        BadgeEarned(
            f"streak_{length}",
            person_id,
            last_key,
            f"{length} months in a row at 100% of quota or more, up to {last_key}",
        )
        for length in STREAKS
        if run == length
    ]


def _run_at_quota(attainments: Iterable[Decimal | None]) -> int:
    run = 0
    for attainment in attainments:
        run = run + 1 if attainment is not None and attainment >= ONE else 0
    return run


@dataclass(frozen=True)
class Weights:
    results: Decimal = Decimal("0.6")
    process: Decimal = Decimal("0.3")
    growth: Decimal = Decimal("0.1")


def weights_problems(weights: Weights) -> list[tuple[str, str]]:
    """What is wrong with a scorecard's weights, as (field, reason); empty when valid."""
    problems = [
        (name, f"must be between 0 and 1, not {weight}")
        for name, weight in _named(weights)
        if not 0 <= weight <= 1
    ]
    total = weights.results + weights.process + weights.growth
    if total != ONE:
        problems.append(("weights", f"must add up to exactly 1, not {total}"))
    return problems


def _named(weights: Weights) -> list[tuple[str, Decimal]]:
    return [
        ("results", weights.results),
        ("process", weights.process),
        ("growth", weights.growth),
    ]


class InvalidScorecardInput(ValueError):
    """Inputs a scorecard cannot be computed from, as (field, reason) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in problems))
        self.problems = problems


@dataclass(frozen=True)
class ProcessGoal:
    goal_id: str
    metric: str
    target: Decimal
    actual: Decimal


@dataclass(frozen=True)
class Part:
    """One of results, process and growth. `score` is 0..100 to the hundredth, None
    when there is nothing to score; `applied_weight` is the weight after the
    weights of missing parts are shared out over the present ones."""

    name: str
    score: Decimal | None
    weight: Decimal
    applied_weight: Decimal
    explanation: str


@dataclass(frozen=True)
class Scorecard:
    """`score` is None when no part has a score; `parts` are always results,
    process and growth, in that order."""

    score: Decimal | None
    parts: tuple[Part, ...]


def scorecard(
    *,
    attainment: Decimal | None,
    process_goals: Sequence[ProcessGoal],
    growth: Decimal | None,
    weights: Weights = Weights(),
) -> Scorecard:
    problems = weights_problems(weights)
    if growth is not None and not 0 <= growth <= HUNDRED:
        problems.append(("growth", f"must be between 0 and 100, not {growth}"))
    if problems:
        raise InvalidScorecardInput(problems)

    scored = [
        ("results", *_results_score(attainment)),
        ("process", *_process_score(process_goals)),
        ("growth", *_growth_score(growth)),
    ]
    configured = dict(_named(weights))
    missing = [name for name, score, _ in scored if score is None]
    present_weight = sum(
        (configured[name] for name, score, _ in scored if score is not None), Decimal(0)
    )

    parts = []
    for name, score, explanation in scored:
        weight = configured[name]
        applied = Decimal(0) if score is None or present_weight == 0 else weight / present_weight
        if score is None and present_weight > 0:
            explanation += f"; its weight {_percent(weight)} is shared over the scored parts"
        elif score is not None and missing:
            explanation += "; " + _redistribution(weight, applied, missing, present_weight)
        parts.append(Part(name, score, weight, applied, explanation))

    if present_weight == 0:
        return Scorecard(None, tuple(parts))
    # Dividing once by the present weight, rather than summing the rounded-off
    # applied weights (2/3, 1/3), keeps a perfect card at exactly 100.00.
    weighted = sum(
        (configured[part.name] * part.score for part in parts if part.score is not None), Decimal(0)
    )
    return Scorecard(_hundredths(weighted / present_weight), tuple(parts))


def _results_score(attainment: Decimal | None) -> tuple[Decimal | None, str]:
    """Over-achievement is paid by the plan, not the scorecard, so results stop at
    100; a negative attainment (clawbacks beyond sales) scores 0."""
    if attainment is None:
        return None, "no usable quota, so no results to score"
    explanation = f"attainment {_percent(attainment)}"
    if attainment > ONE:
        explanation += ", counted as 100%"
    elif attainment < 0:
        explanation += ", counted as 0%"
    return _score(_capped(attainment)), explanation


def _process_score(goals: Sequence[ProcessGoal]) -> tuple[Decimal | None, str]:
    """The mean completion of the process goals that have a target, each capped at
    100%, so overdoing one activity cannot make up for neglecting another."""
    with_target = [goal for goal in goals if goal.target > 0]
    if not with_target:
        return None, "no process goals with a target"
    completions = [_capped(goal.actual / goal.target) for goal in with_target]
    listed = [
        f"{goal.metric} {_number(goal.actual)}/{_number(goal.target)}"
        f" = {_percent(goal.actual / goal.target)}"
        for goal in with_target
    ]
    listed += [f"{goal.metric} has no target, not counted" for goal in goals if goal.target <= 0]
    mean = sum(completions, Decimal(0)) / len(completions)
    return _score(mean), "mean completion, each capped at 100%, of: " + "; ".join(listed)


def _growth_score(growth: Decimal | None) -> tuple[Decimal | None, str]:
    if growth is None:
        return None, "not entered by the manager"
    return _hundredths(growth), "entered by the manager"


def _capped(ratio: Decimal) -> Decimal:
    return min(max(ratio, Decimal(0)), ONE)


def _score(ratio: Decimal) -> Decimal:
    return _hundredths(ratio * HUNDRED)


def _hundredths(value: Decimal) -> Decimal:
    # round_half_up keeps whatever exponent the division left (`1E+2`, `75`);
    # quantizing the rounded value is exact and shows every score as 0.00.
    return round_half_up(value).quantize(CENT)


def _redistribution(
    weight: Decimal, applied: Decimal, missing: list[str], present_weight: Decimal
) -> str:
    if present_weight == 0:
        return "no score, because every scored part has weight 0%"
    return (
        f"weight {_percent(weight)} applied as {_percent(applied)}, because the weight of"
        f" {' and '.join(missing)} is shared over the scored parts in proportion to theirs"
    )


def _percent(ratio: Decimal) -> str:
    return f"{round_half_up(ratio * HUNDRED, TENTH).quantize(TENTH):f}%"


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"
