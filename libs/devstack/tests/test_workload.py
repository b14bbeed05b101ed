import json
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from attain_devstack.workload import (
    CANCELLED_SHARE,
    EDITED_SHARE,
    METRICS,
    REASSIGNED_SHARE,
    Deal,
    Size,
    Workload,
    goal_id,
    plan_periods,
    size_of,
    write_json_lines,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def small() -> Workload:
    return Workload("W/100", seed=7)


@pytest.fixture(scope="module")
def deliveries(small: Workload) -> list[Deal]:
    return list(small.deliveries())


@pytest.mark.parametrize(
    ("scale", "size"),
    [
        ("W", Size(regions=20, teams=200, reps=2_000, deals=1_000_000)),
        ("W/10", Size(regions=2, teams=20, reps=200, deals=100_000)),
        ("W/100", Size(regions=1, teams=2, reps=20, deals=10_000)),
    ],
)
def test_counts_scale_as_specified(scale: str, size: Size) -> None:
    workload = Workload(scale)
    units = Counter(unit.kind for unit in workload.org_units())
    reps = [p for p in workload.people() if p.person_id.startswith("rep-")]

    assert workload.size == size_of(scale) == size
    assert units == {"company": 1, "region": size.regions, "team": size.teams}
    assert len(reps) == size.reps
    assert sum(p.maturity == "new" for p in reps) == size.reps // 10
    assert Counter(p.memberships[0].org_unit_id for p in reps) == dict.fromkeys(
        (f"team-{t:03d}" for t in range(1, size.teams + 1)), 10
    )


def test_reference_workload_has_about_300_000_goals() -> None:
    assert Workload("W").goal_count() == 2_221 * 2 * (1 + 4 + 12 + 53)


def test_small_workload_has_its_goals_and_deals(small: Workload, deliveries: list[Deal]) -> None:
    assert sum(1 for _ in small.goals()) == small.goal_count()
    assert len({d["id"] for d in deliveries}) == 10_000


def test_org_units_hang_from_the_company_root_first(small: Workload) -> None:
    units = {unit.org_unit_id: unit for unit in small.org_units()}

    for unit in units.values():
        assert unit.path[0] == "company" and unit.path[-1] == unit.org_unit_id
        assert unit.parent_id == (unit.path[-2] if len(unit.path) > 1 else None)
        assert unit.manager_id == f"mgr-{unit.org_unit_id}"
        assert all(ancestor in units for ancestor in unit.path)


def test_same_seed_same_workload_and_another_seed_another() -> None:
    def fingerprint(workload: Workload) -> list[object]:
        goals = [g.model_dump() for g in workload.goals()][:500]
        return [goals, list(workload.deliveries())[:2_000]]

    assert fingerprint(Workload("W/100", seed=3)) == fingerprint(Workload("W/100", seed=3))
    assert fingerprint(Workload("W/100", seed=3)) != fingerprint(Workload("W/100", seed=4))


def test_every_deal_starts_won_at_version_1_and_later_versions_follow_in_order(
    deliveries: list[Deal],
) -> None:
    versions: dict[str, list[int]] = defaultdict(list)
    for deal in deliveries:
        versions[deal["id"]].append(deal["version"])
        if deal["version"] == 1:
            assert deal["stage"] == "won"
    for seen in versions.values():
        assert seen == list(range(1, len(seen) + 1))


def test_edits_reassignments_and_cancellations_come_in_the_planned_shares(
    deliveries: list[Deal],
) -> None:
    first = {d["id"]: d for d in deliveries if d["version"] == 1}
    changes: Counter[str] = Counter()
    for deal in deliveries:
        if deal["version"] == 1:
            continue
        before = first[deal["id"]]
        changes["edited"] += deal["amount"] != before["amount"] and deal["stage"] == "won"
        changes["reassigned"] += deal["owner_id"] != before["owner_id"] and deal["stage"] == "won"
        changes["cancelled"] += deal["stage"] == "cancelled"
        first[deal["id"]] = deal
    deals = len({d["id"] for d in deliveries})

    assert changes["edited"] / deals == pytest.approx(EDITED_SHARE, abs=0.015)
    assert changes["reassigned"] / deals == pytest.approx(REASSIGNED_SHARE, abs=0.008)
    assert changes["cancelled"] / deals == pytest.approx(CANCELLED_SHARE, abs=0.006)


def test_deals_are_valid_generic_deals_closing_in_the_year(deliveries: list[Deal]) -> None:
    for deal in deliveries:
        assert set(deal) == {
            "id",
            "version",
            "stage",
            "amount",
            "currency",
            "owner_id",
            "closed_on",
            "created_on",
            "product_line",
            "customer_id",
        }
        assert Decimal(deal["amount"]) > 0
        assert Decimal(deal["amount"]).as_tuple().exponent == -2
        assert date.fromisoformat(deal["created_on"]) < date.fromisoformat(deal["closed_on"])
        assert date.fromisoformat(deal["closed_on"]).year == 2026


def test_deals_follow_the_monthly_seasonality(deliveries: list[Deal]) -> None:
    by_month = Counter(d["closed_on"][:7] for d in deliveries if d["version"] == 1)

    assert by_month["2026-01"] == 600
    assert by_month["2026-06"] == by_month["2026-12"] == 1_000


def test_each_owner_has_a_goal_per_metric_and_period(small: Workload) -> None:
    per_owner = Counter((g.owner_id, g.metric) for g in small.goals())

    assert set(per_owner.values()) == {1 + 4 + 12 + 53}  # 2026 has 53 ISO weeks
    assert len(per_owner) == 2 * (4 + 20)


def test_a_52_week_year_has_one_week_less() -> None:
    assert len(plan_periods(2027)) == 1 + 4 + 12 + 52


def test_goals_link_to_their_parent_period(small: Workload) -> None:
    goals = {g.goal_id: g for g in small.goals()}

    for goal in goals.values():
        if goal.period.key == "FY2026":
            assert goal.parent_id is None
            continue
        assert goal.parent_id is not None
        parent = goals[goal.parent_id]
        assert (parent.owner_id, parent.metric) == (goal.owner_id, goal.metric)
        thursday = date.fromordinal(goal.period.start.toordinal() + 3)
        assert parent.period.start <= max(goal.period.start, thursday) <= parent.period.end


def test_goals_carry_owner_scope_and_currency(small: Workload) -> None:
    for goal in small.goals():
        if goal.person_id is not None:
            assert goal.owner_id == goal.person_id
            assert goal.org_unit_id.startswith("team-")
        else:
            assert goal.owner_id == f"mgr-{goal.org_unit_id}"
        assert goal.currency == ("CNY" if goal.metric == "revenue" else None)
        assert (goal.status, goal.method, goal.timezone) == ("active", "workload", "UTC")


def test_period_targets_add_up_to_the_year(small: Workload) -> None:
    targets = {g.goal_id: g.target for g in small.goals()}
    for rep in small.reps:
        for metric in METRICS:
            year = targets[goal_id(rep.id, metric, "FY2026")]
            quarters = [targets[goal_id(rep.id, metric, f"FY2026-Q{q}")] for q in range(1, 5)]
            months = [targets[goal_id(rep.id, metric, f"2026-{m:02d}")] for m in range(1, 13)]
            weeks = [targets[goal_id(rep.id, metric, f"2026-W{w:02d}")] for w in range(1, 54)]
            assert year == sum(quarters) == sum(months) == sum(weeks) > 0
            assert months[5] > months[0]  # June's share is 10%, January's 6%


def test_org_unit_targets_are_the_sum_of_their_reps_targets(small: Workload) -> None:
    goals = list(small.goals())
    path_of = {rep.id: rep.team.path for rep in small.reps}
    summed: dict[tuple[str, str, str | None], Decimal] = defaultdict(Decimal)
    for goal in goals:
        if goal.person_id is not None:
            for unit in path_of[goal.person_id]:
                summed[unit, goal.metric, goal.period.key] += goal.target

    unit_goals = [g for g in goals if g.person_id is None]
    assert len(unit_goals) == len(summed)
    for goal in unit_goals:
        assert goal.target == summed[goal.org_unit_id, goal.metric, goal.period.key]


def test_targets_match_the_expected_output_and_some_reps_fall_behind(small: Workload) -> None:
    year_goals = {g.goal_id: g for g in small.goals() if g.period.key == "FY2026"}
    actuals = small.expected_actuals(year_goals)
    attainment = {i: actuals[i] / g.target for i, g in year_goals.items()}

    assert attainment["g-company-revenue-FY2026"] == pytest.approx(1, abs=0.05)
    assert attainment["g-company-deals_won-FY2026"] == pytest.approx(1, abs=0.02)
    reps = [a for i, a in attainment.items() if i.startswith("g-rep-") and "revenue" in i]
    assert sum(a < Decimal("0.8") for a in reps) >= 2
    assert sum(a > Decimal("1.1") for a in reps) >= 2


def test_expected_actuals_credit_the_final_state_of_won_deals(
    small: Workload,
    deliveries: list[Deal],
) -> None:
    final = {d["id"]: d for d in deliveries}
    won = [d for d in final.values() if d["stage"] == "won"]
    rep = won[0]["owner_id"]
    ids = [goal_id(rep, "revenue", "FY2026"), goal_id("company", "deals_won", "2026-03")]

    actuals = small.expected_actuals(ids)

    assert actuals[ids[0]] == sum(Decimal(d["amount"]) for d in won if d["owner_id"] == rep)
    assert actuals[ids[1]] == sum(1 for d in won if d["closed_on"].startswith("2026-03"))


def test_a_deal_affects_its_owners_and_their_org_units_goals_for_its_day(small: Workload) -> None:
    rep = small.reps[0]

    affected = small.affected_goal_ids(rep.id, "2026-03-05")

    assert set(affected) == set(METRICS)
    assert [len(ids) for ids in affected.values()] == [4 * (1 + len(rep.team.path))] * 2
    assert goal_id(rep.id, "revenue", "2026-W10") in affected["revenue"]
    assert goal_id("company", "deals_won", "FY2026-Q1") in affected["deals_won"]


def test_delivery_batches_cover_the_deliveries_in_order(
    small: Workload,
    deliveries: list[Deal],
) -> None:
    batches = list(small.delivery_batches(3_000))

    assert [len(b) for b in batches[:-1]] == [3_000] * (len(batches) - 1)
    assert [d for batch in batches for d in batch] == deliveries


def test_json_lines_are_written_for_demos(small: Workload, tmp_path: Path) -> None:
    counts = write_json_lines(small, tmp_path)

    assert counts["goals.jsonl"] == small.goal_count()
    first = json.loads((tmp_path / "deals.jsonl").read_text().splitlines()[0])
    assert first["version"] == 1
    assert json.loads((tmp_path / "org.jsonl").read_text().splitlines()[0])["path"] == ["company"]
