"""Leaderboards, badges and scorecards (DOMAIN.md §7)."""

from decimal import Decimal
from itertools import groupby
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incentive_service.domain.standings import (
    STREAKS,
    BadgeEarned,
    InvalidScorecardInput,
    ProcessGoal,
    Ranked,
    Standing,
    Weights,
    champions,
    club_100,
    leaderboard,
    scorecard,
    streaks,
    weights_problems,
)

pytestmark = pytest.mark.unit

Q1 = "FY2026-Q1"


def person(person_id: str, target: str | None, actual: str) -> Standing:
    return Standing(
        person_id=person_id,
        name=person_id.upper(),
        org_unit_id="east",
        target=None if target is None else Decimal(target),
        actual=Decimal(actual),
    )


def ranks(board: list[Ranked]) -> list[tuple[int | None, str]]:
    return [(entry.rank, entry.standing.person_id) for entry in board]


# --- attainment and leaderboard -------------------------------------------------------


def test_attainment_is_actual_over_target_and_needs_a_positive_target() -> None:
    assert person("a", "100000", "131200").attainment == Decimal("1.312")
    assert person("a", None, "5").attainment is None
    assert person("a", "0", "5").attainment is None
    assert person("a", "-10", "5").attainment is None


def test_the_board_ranks_by_attainment_not_by_amount() -> None:
    board = leaderboard(
        [
            person("big", "1000000", "900000"),  # 90%
            person("small", "10000", "12000"),  # 120%
        ]
    )
    assert ranks(board) == [(1, "small"), (2, "big")]


def test_ties_share_a_rank_and_the_next_rank_is_skipped() -> None:
    board = leaderboard(
        [
            person("d", "100", "50"),  # 50%
            person("c", "100", "80"),  # 80%
            person("b", "200", "160"),  # 80%, more actual than c
            person("a", "100", "120"),  # 120%
        ]
    )
    assert ranks(board) == [(1, "a"), (2, "b"), (2, "c"), (4, "d")]


def test_equal_attainment_and_actual_are_listed_by_person_id() -> None:
    board = leaderboard([person("z", "100", "80"), person("m", "100", "80")])
    assert ranks(board) == [(1, "m"), (1, "z")]


def test_people_without_a_quota_come_last_unranked_by_person_id() -> None:
    board = leaderboard(
        [
            person("y", None, "999999"),
            person("b", "100", "10"),
            person("x", "0", "50"),
            person("a", "100", "90"),
        ]
    )
    assert ranks(board) == [(1, "a"), (2, "b"), (None, "x"), (None, "y")]


def test_a_negative_attainment_is_still_ranked_last_among_the_ranked() -> None:
    board = leaderboard([person("a", "100", "-20"), person("b", "100", "0")])
    assert ranks(board) == [(1, "b"), (2, "a")]


def test_an_empty_board_is_empty() -> None:
    assert leaderboard([]) == []


def test_a_person_twice_on_one_board_is_refused() -> None:
    with pytest.raises(ValueError, match="appears twice"):
        leaderboard([person("a", "100", "50"), person("a", "100", "60")])


small_amounts = st.integers(min_value=-5, max_value=15).map(lambda n: Decimal(n) * 10)
targets = st.none() | st.sampled_from(["0", "50", "100", "200"]).map(Decimal)


@st.composite
def boards(draw: st.DrawFn) -> list[Standing]:
    # Few distinct amounts and targets, so that ties are common.
    ids = draw(st.lists(st.sampled_from("abcdefghijklmnop"), unique=True, max_size=12))
    return [Standing(pid, pid, "east", draw(targets), draw(small_amounts)) for pid in ids]


@given(boards(), st.randoms())
def test_the_board_does_not_depend_on_input_order(
    standings: list[Standing], random: Random
) -> None:
    shuffled = list(standings)
    random.shuffle(shuffled)
    assert leaderboard(shuffled) == leaderboard(standings)


@given(boards())
def test_a_rank_is_one_more_than_the_number_of_people_strictly_ahead(
    standings: list[Standing],
) -> None:
    board = leaderboard(standings)
    assert sorted(entry.standing.person_id for entry in board) == sorted(
        s.person_id for s in standings
    )
    attainments = [s.attainment for s in standings if s.attainment is not None]
    for entry in board:
        mine = entry.standing.attainment
        if mine is None:
            assert entry.rank is None
        else:
            assert entry.rank == 1 + sum(1 for other in attainments if other > mine)
    ranked_flags = [entry.rank is not None for entry in board]
    assert ranked_flags == sorted(ranked_flags, reverse=True)


# --- badges ---------------------------------------------------------------------------


def test_the_champion_is_first_with_its_attainment_in_the_reason() -> None:
    board = leaderboard([person("a", "100000", "131200"), person("b", "100000", "90000")])
    assert champions(board, Q1) == [
        BadgeEarned("quarterly_champion", "a", Q1, "first with 131.2% of quota in FY2026-Q1")
    ]


def test_everyone_tied_for_first_is_champion() -> None:
    board = leaderboard(
        [person("a", "100", "110"), person("b", "200", "220"), person("c", "100", "109")]
    )
    earned = champions(board, Q1)
    assert [badge.person_id for badge in earned] == ["b", "a"]
    assert all(badge.reason.startswith("joint first with 110.0%") for badge in earned)


def test_no_champion_when_the_best_attainment_is_zero_or_nobody_has_a_quota() -> None:
    assert champions(leaderboard([person("a", "100", "0"), person("b", "100", "0")]), Q1) == []
    assert champions(leaderboard([person("a", None, "500")]), Q1) == []
    assert champions([], Q1) == []


def test_the_100_club_includes_exactly_100_percent_and_excludes_a_hair_below() -> None:
    board = leaderboard(
        [
            person("exact", "100000", "100000"),
            person("below", "100000", "99999.99"),
            person("above", "100000", "150000"),
            person("none", None, "200000"),
        ]
    )
    assert club_100(board, Q1) == [
        BadgeEarned("club_100", "above", Q1, "150.0% of quota in FY2026-Q1"),
        BadgeEarned("club_100", "exact", Q1, "100.0% of quota in FY2026-Q1"),
    ]


AT = Decimal("1.00")
BELOW = Decimal("0.99")


def months(*attainments: Decimal | None) -> list[tuple[str, Decimal | None]]:
    return [(f"2026-{index:02d}", value) for index, value in enumerate(attainments, start=1)]


def test_a_streak_of_three_is_earned_in_the_third_month() -> None:
    assert streaks("p", months(BELOW, AT, Decimal("1.4"), AT)) == [
        BadgeEarned(
            "streak_3", "p", "2026-04", "3 months in a row at 100% of quota or more, up to 2026-04"
        )
    ]


def test_a_streak_is_not_earned_again_in_the_fourth_month() -> None:
    assert streaks("p", months(AT, AT, AT, AT)) == []


def test_a_month_without_a_quota_breaks_the_streak() -> None:
    assert streaks("p", months(AT, AT, None, AT, AT)) == []
    assert streaks("p", months(AT, None, AT, AT, AT))[0].badge == "streak_3"


def test_a_month_below_quota_breaks_the_streak() -> None:
    assert streaks("p", months(AT, AT, BELOW, AT, AT)) == []


def test_a_streak_of_six_is_earned_in_the_sixth_month() -> None:
    assert [badge.badge for badge in streaks("p", months(*[AT] * 6))] == ["streak_6"]
    assert [badge.badge for badge in streaks("p", months(*[AT] * 12))] == ["streak_12"]


def test_no_months_no_streak() -> None:
    assert streaks("p", []) == []


@given(st.lists(st.sampled_from([AT, BELOW, None, Decimal("1.5")]), max_size=30))
def test_closing_month_by_month_awards_each_streak_once_per_run_that_reaches_it(
    history: list[Decimal | None],
) -> None:
    closed = months(*history)
    awarded = [
        badge.badge for end in range(1, len(closed) + 1) for badge in streaks("p", closed[:end])
    ]
    runs = [
        len(list(group))
        for at_quota, group in groupby(history, key=lambda a: a is not None and a >= 1)
        if at_quota
    ]
    for length in STREAKS:
        assert awarded.count(f"streak_{length}") == sum(1 for run in runs if run >= length)


# --- weights --------------------------------------------------------------------------


def test_the_default_weights_are_60_30_10_and_valid() -> None:
    assert Weights() == Weights(Decimal("0.6"), Decimal("0.3"), Decimal("0.1"))
    assert weights_problems(Weights()) == []


def test_weights_that_do_not_add_up_to_one_are_reported() -> None:
    assert weights_problems(Weights(Decimal("0.6"), Decimal("0.3"), Decimal("0.2"))) == [
        ("weights", "must add up to exactly 1, not 1.1")
    ]


def test_a_weight_outside_zero_to_one_is_reported_by_field() -> None:
    problems = weights_problems(Weights(Decimal("1.2"), Decimal("-0.2"), Decimal("0")))
    assert problems == [
        ("results", "must be between 0 and 1, not 1.2"),
        ("process", "must be between 0 and 1, not -0.2"),
    ]


def test_invalid_weights_or_growth_refuse_a_scorecard() -> None:
    with pytest.raises(InvalidScorecardInput) as refused:
        scorecard(
            attainment=Decimal(1),
            process_goals=[],
            growth=Decimal(101),
            weights=Weights(Decimal("0.5"), Decimal("0.3"), Decimal("0.1")),
        )
    assert [field for field, _ in refused.value.problems] == ["weights", "growth"]


# --- scorecard ------------------------------------------------------------------------

ACTIVITIES = ProcessGoal("g-act", "activities", Decimal(60), Decimal(45))
VISITS = ProcessGoal("g-vis", "visits", Decimal(10), Decimal(12))


def test_the_default_scorecard_blends_60_30_10() -> None:
    # results: attainment 85%                          -> 85.00
    # process: activities 45/60 = 75%, visits 12/10 = 120% capped at 100%
    #          mean (75 + 100) / 2                      -> 87.50
    # growth:  entered as 70                            -> 70.00
    # score:   0.6 * 85 + 0.3 * 87.5 + 0.1 * 70 = 51 + 26.25 + 7 = 84.25
    card = scorecard(
        attainment=Decimal("0.85"), process_goals=[ACTIVITIES, VISITS], growth=Decimal(70)
    )
    assert card.score == Decimal("84.25")
    assert [part.name for part in card.parts] == ["results", "process", "growth"]
    assert [part.score for part in card.parts] == [
        Decimal("85.00"),
        Decimal("87.50"),
        Decimal("70.00"),
    ]
    assert [part.applied_weight for part in card.parts] == [part.weight for part in card.parts]
    assert card.parts[1].explanation == (
        "mean completion, each capped at 100%, of: activities 45/60 = 75.0%; visits 12/10 = 120.0%"
    )


def test_results_stop_at_100_because_the_plan_pays_over_achievement() -> None:
    card = scorecard(attainment=Decimal("1.5"), process_goals=[], growth=Decimal(100))
    assert card.parts[0].score == Decimal("100.00")
    assert card.parts[0].explanation.startswith("attainment 150.0%, counted as 100%")
    assert card.score == Decimal("100.00")


def test_a_score_rounds_half_up_to_the_hundredth() -> None:
    card = scorecard(attainment=Decimal("0.12345"), process_goals=[], growth=None)
    assert card.parts[0].score == Decimal("12.35")
    assert card.score == Decimal("12.35")


def test_missing_growth_shares_its_weight_over_results_and_process() -> None:
    # results 90, process 75; weights 60/30 become 2/3 and 1/3:
    # (0.6 * 90 + 0.3 * 75) / 0.9 = 76.5 / 0.9 = 85.00
    card = scorecard(attainment=Decimal("0.9"), process_goals=[ACTIVITIES], growth=None)
    results, process, growth = card.parts
    assert results.applied_weight == Decimal(2) / Decimal(3)
    assert process.applied_weight == Decimal(1) / Decimal(3)
    assert (growth.score, growth.weight, growth.applied_weight) == (
        None,
        Decimal("0.1"),
        Decimal(0),
    )
    assert card.score == Decimal("85.00")
    assert "weight 60.0% applied as 66.7%" in results.explanation
    assert "growth is shared over the scored parts" in results.explanation
    assert growth.explanation == (
        "not entered by the manager; its weight 10.0% is shared over the scored parts"
    )


def test_only_one_part_present_takes_all_the_weight() -> None:
    card = scorecard(attainment=None, process_goals=[], growth=Decimal("42.5"))
    assert [part.applied_weight for part in card.parts] == [0, 0, 1]
    assert card.score == Decimal("42.50")
    assert "results and process" in card.parts[2].explanation


def test_process_goals_without_a_target_are_not_counted() -> None:
    no_target = ProcessGoal("g-call", "calls", Decimal(0), Decimal(30))
    card = scorecard(attainment=None, process_goals=[no_target, ACTIVITIES], growth=None)
    assert card.parts[1].score == Decimal("75.00")
    assert "calls has no target, not counted" in card.parts[1].explanation
    only_untargeted = scorecard(attainment=None, process_goals=[no_target], growth=None)
    assert only_untargeted.parts[1].score is None


def test_nothing_to_score_gives_no_score() -> None:
    card = scorecard(attainment=None, process_goals=[], growth=None)
    assert card.score is None
    assert all(part.score is None and part.applied_weight == 0 for part in card.parts)


def test_no_score_when_every_present_part_has_weight_zero() -> None:
    card = scorecard(
        attainment=None,
        process_goals=[],
        growth=Decimal(80),
        weights=Weights(Decimal("0.7"), Decimal("0.3"), Decimal(0)),
    )
    assert card.score is None
    assert card.parts[2].score == Decimal("80.00")
    assert card.parts[2].applied_weight == 0


@st.composite
def valid_weights(draw: st.DrawFn) -> Weights:
    hundredths = st.integers(min_value=0, max_value=100)
    results = draw(hundredths)
    process = draw(st.integers(min_value=0, max_value=100 - results))
    growth = 100 - results - process
    return Weights(*(Decimal(n) / 100 for n in (results, process, growth)))


ratios = st.decimals(min_value=-2, max_value=5, places=4, allow_nan=False)
goals = st.builds(
    ProcessGoal,
    goal_id=st.just("g"),
    metric=st.sampled_from(["activities", "visits", "calls"]),
    target=st.decimals(min_value=-10, max_value=1000, places=2, allow_nan=False),
    actual=st.decimals(min_value=-10, max_value=2000, places=2, allow_nan=False),
)
growths = st.none() | st.decimals(min_value=0, max_value=100, places=3, allow_nan=False)


@given(valid_weights())
def test_weights_in_range_that_add_up_to_one_have_no_problems(weights: Weights) -> None:
    assert weights_problems(weights) == []


@given(st.none() | ratios, st.lists(goals, max_size=5), growths, valid_weights())
def test_every_score_is_within_0_and_100_and_the_applied_weights_add_up_to_one(
    attainment: Decimal | None,
    process_goals: list[ProcessGoal],
    growth: Decimal | None,
    weights: Weights,
) -> None:
    card = scorecard(
        attainment=attainment, process_goals=process_goals, growth=growth, weights=weights
    )
    scores = [part.score for part in card.parts if part.score is not None]
    assert all(0 <= score <= 100 for score in scores)
    if card.score is None:
        assert all(part.applied_weight == 0 for part in card.parts)
    else:
        assert 0 <= card.score <= 100
        assert min(scores) <= card.score <= max(scores)
        total = sum((part.applied_weight for part in card.parts), Decimal(0))
        assert abs(total - 1) < Decimal("1e-20")
        assert card.score == card.score.quantize(Decimal("0.01"))
