"""The planner's pure logic: the goal tree with its sums, the plan-builder form
as a plan request, an API refusal mapped back to its form field, the preview
table of a dry run, and what a CRM source's webhook URLs are."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard_service.domain.forms import Fault, FormError, decimals_of, json_of, pairs_of
from dashboard_service.domain.planning import (
    FieldRef,
    GoalNode,
    PlanForm,
    WarningKind,
    plan_draft,
    preview,
    tree_rows,
)
from dashboard_service.domain.sources import webhook_endpoints

pytestmark = pytest.mark.unit

D = Decimal
SUMMABLE = {"revenue", "deals_won"}


def goal(goal_id: str, parent_id: str | None, target: str, **fields: Any) -> GoalNode:
    values: dict[str, Any] = {
        "id": goal_id,
        "parent_id": parent_id,
        "metric": "revenue",
        "org_unit_id": goal_id,
        "person_id": None,
        "product_line": None,
        "owner_id": "boss",
        "period_key": "FY2026",
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 12, 31),
        "target": D(target),
        "currency": "CNY",
        "status": "active",
        "version": 1,
        **fields,
    }
    return GoalNode(**values)


# --- the tree ------------------------------------------------------------------------


def test_each_goal_shows_its_children_s_sum_and_whether_they_add_up() -> None:
    goals = [
        goal("acme", None, "1000"),
        goal("east", "acme", "600"),
        goal("west", "acme", "300"),
        goal("ann", "east", "300", person_id="ann"),
        goal("bob", "east", "300", person_id="bob"),
    ]
    rows = {row.goal.id: row for row in tree_rows(goals, "acme", SUMMABLE)}
    assert (rows["acme"].children_sum, rows["acme"].adds_up) == (D(900), False)
    assert (rows["east"].children_sum, rows["east"].adds_up) == (D(600), True)
    assert (rows["west"].children_sum, rows["west"].adds_up) == (None, None)
    assert [r.depth for r in tree_rows(goals, "acme", SUMMABLE)] == [0, 1, 2, 2, 1]


def test_ratios_and_children_of_another_metric_are_not_added_up() -> None:
    goals = [
        goal("acme", None, "0.3", metric="win_rate"),
        goal("east", "acme", "0.2", metric="win_rate"),
        goal("rev", None, "100"),
        goal("deals", "rev", "5", metric="deals_won"),
    ]
    rows = {row.goal.id: row for row in tree_rows(goals, "acme", SUMMABLE)}
    assert rows["acme"].adds_up is None and rows["acme"].children_sum == D("0.2")
    assert rows["rev"].children_sum is None and rows["rev"].adds_up is None


def test_children_are_in_period_order_under_their_parent() -> None:
    goals = [
        goal("year", None, "12"),
        goal("q2", "year", "3", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30)),
        goal("q1", "year", "3", period_start=date(2026, 1, 1), period_end=date(2026, 3, 31)),
    ]
    assert [r.goal.id for r in tree_rows(goals, "year", SUMMABLE)] == ["year", "q1", "q2"]


@st.composite
def forests(draw: st.DrawFn) -> list[GoalNode]:
    count = draw(st.integers(min_value=1, max_value=25))
    goals = []
    for index in range(count):
        parent = draw(st.none() | st.integers(min_value=0, max_value=count + 3))
        target = draw(st.decimals(min_value=0, max_value=10**6, places=2))
        metric = draw(st.sampled_from(["revenue", "deals_won", "win_rate"]))
        goals.append(
            goal(
                f"g{index}",
                None if parent is None or parent == index else f"g{parent}",
                str(target),
                metric=metric,
            )
        )
    return goals


@given(forests(), st.integers(min_value=0, max_value=30))
def test_every_goal_shows_once_below_its_parent_with_the_sum_of_its_children(
    goals: list[GoalNode], root: int
) -> None:
    rows = tree_rows(goals, f"g{root}", SUMMABLE)
    assert sorted(r.goal.id for r in rows) == sorted(g.id for g in goals)
    position = {row.goal.id: index for index, row in enumerate(rows)}
    for row in rows:
        same = [
            r.goal.target
            for r in rows
            if r.goal.parent_id == row.goal.id and r.goal.metric == row.goal.metric
        ]
        assert row.children_sum == (sum(same, D(0)) if same else None)
        if row.adds_up is not None:
            assert row.adds_up == (row.children_sum == row.goal.target)
            assert row.goal.metric in SUMMABLE
        parent = row.goal.parent_id
        if row.depth > 0:
            assert parent in position and position[parent] < position[row.goal.id]
            assert rows[position[parent]].depth == row.depth - 1


# --- the plan builder ----------------------------------------------------------------


def test_the_form_becomes_an_org_and_a_time_step_then_the_typed_steps() -> None:
    form = PlanForm(
        org=True,
        org_method="given",
        org_stretch="1.1",
        org_weights="east=2, west: 1",
        org_floors="west=100",
        time=True,
        time_grains=("quarter", "month"),
        time_profile="percentages",
        time_months="6,6,8,8,8,10\n8,8,8,10,10,10",
        steps_json='[{"kind": "reconcile", "policy": "max", "threshold": 0.15}]',
        reason="FY2026 targets",
    )
    body = plan_draft(form).request(dry_run=True)
    assert body == {
        "dry_run": True,
        "reason": "FY2026 targets",
        "steps": [
            {
                "kind": "org",
                "method": "given",
                "to": "auto",
                "stretch": "1.1",
                "weights": {"east": "2", "west": "1"},
                "floors": {"west": "100"},
            },
            {
                "kind": "time",
                "grains": ["quarter", "month"],
                "profile": {
                    "kind": "percentages",
                    "months": ["6", "6", "8", "8", "8", "10", "8", "8", "8", "10", "10", "10"],
                },
            },
            # a number typed into the JSON editor goes on as typed, never through a float
            {"kind": "reconcile", "policy": "max", "threshold": "0.15"},
        ],
    }


@pytest.mark.parametrize(
    ("form", "field", "fault"),
    [
        (PlanForm(org=True, org_stretch="a lot"), "org_stretch", Fault.NOT_A_NUMBER),
        (PlanForm(org=True, org_weights="east 2"), "org_weights", Fault.NOT_PAIRS),
        (PlanForm(org=True, org_caps="east=x"), "org_caps", Fault.NOT_A_NUMBER),
        (PlanForm(time=True, time_months="6, six"), "time_months", Fault.NOT_A_NUMBER),
        (PlanForm(steps_json="[{"), "steps_json", Fault.NOT_JSON),
        (PlanForm(steps_json='{"kind": "org"}'), "steps_json", Fault.NOT_A_LIST),
    ],
)
def test_what_cannot_be_read_is_refused_naming_its_field(
    form: PlanForm, field: str, fault: Fault
) -> None:
    with pytest.raises(FormError) as refused:
        plan_draft(form)
    assert (refused.value.field, refused.value.fault) == (field, fault)


def test_an_api_refusal_names_the_form_field_it_belongs_to() -> None:
    draft = plan_draft(
        PlanForm(
            org=True,
            time=True,
            time_grains=("month",),
            steps_json='[{"kind": "funnel"}, {"kind": "levers", "mode": "solve", "drivers": []}]',
        )
    )
    assert draft.form_field("steps.0.org.stretch") == FieldRef("org_stretch", None)
    assert draft.form_field("steps.0.weights") == FieldRef("org_weights", None)
    assert draft.form_field("steps.0") == FieldRef("org", None)
    assert draft.form_field("steps.1.time.profile.months") == FieldRef("time_months", None)
    assert draft.form_field("steps.1.grains.0") == FieldRef("time_grains", None)
    assert draft.form_field("steps.3.levers.drivers") == FieldRef("steps_json", "[1].drivers")
    assert draft.form_field("steps.2.min_deals") == FieldRef("steps_json", "[0].min_deals")
    assert draft.form_field("reason") == FieldRef("reason", "reason")
    assert draft.form_field(None) == FieldRef(None, None)


# --- the preview ---------------------------------------------------------------------


def change(goal_id: str, parent_id: str | None, target: str, **fields: Any) -> dict[str, Any]:
    return {
        "goal_id": goal_id,
        "action": "create",
        "parent_id": parent_id,
        "derived_from_id": None,
        "metric": "revenue",
        "org_unit_id": goal_id,
        "person_id": None,
        "product_line": None,
        "owner_id": "m",
        "period": {"key": "FY2026", "start": "2026-01-01", "end": "2026-12-31"},
        "target": target,
        "previous_target": None,
        "version": None,
        "method": "org:equal",
        "explanation": f"equal share → {target}",
        "milestones": None,
        **fields,
    }


def test_the_preview_has_a_row_a_goal_with_parent_child_target_explanation_warnings() -> None:
    root = goal("goal_acme", None, "1000", org_unit_id="acme")
    answer = {
        "summary": {
            "created": 3,
            "updated": 0,
            "kept": 0,
            "left_alone": 1,
            "notes": ["goal_east: no actuals last year: split by calendar days", "plain note"],
        },
        "changes": [
            change("goal_east", "goal_acme", "550", org_unit_id="east"),
            change("goal_west", "goal_acme", "550", org_unit_id="west"),
            change(
                "goal_eq1",
                "goal_east",
                "550",
                org_unit_id="east",
                period={"key": "FY2026-Q1", "start": "2026-01-01", "end": "2026-03-31"},
            ),
            change("goal_deals", None, "9", metric="deals_won", derived_from_id="goal_east"),
        ],
    }
    table = preview(
        answer, root, money_metrics={"revenue"}, summable=SUMMABLE, names={"east": "East"}
    )
    east, west, q1, deals = table.rows
    assert (east.parent, east.child, east.target) == ("acme · FY2026", "East · FY2026", D(550))
    assert east.explanation == "equal share → 550" and east.currency == "CNY"
    assert [w.kind for w in east.warnings] == [WarningKind.NOTE]
    assert east.warnings[0].text == "no actuals last year: split by calendar days"
    assert (q1.parent, q1.child, q1.warnings) == ("East · FY2026", "East · FY2026-Q1", ())
    assert deals.parent == "East · FY2026" and deals.currency is None
    # 550 + 550 is not the company's 1000: said about the root, which has no row
    [plain, root_sum] = table.warnings
    assert (plain.kind, plain.text) == (WarningKind.NOTE, "plain note")
    assert root_sum.kind is WarningKind.CHILDREN_DO_NOT_ADD_UP
    assert (root_sum.children_sum, root_sum.target) == (D(1100), D(1000))
    assert (table.created, table.left_alone) == (3, 1)
    assert west.warnings == ()


def test_a_changed_root_carries_its_own_warning_in_its_row() -> None:
    root = goal("goal_acme", None, "1000", org_unit_id="acme")
    answer = {
        "summary": {"created": 1, "updated": 1, "kept": 0, "left_alone": 0, "notes": []},
        "changes": [
            change("goal_acme", None, "1200", action="update", previous_target="1000"),
            change("goal_east", "goal_acme", "1000", org_unit_id="east"),
        ],
    }
    table = preview(answer, root, money_metrics={"revenue"}, summable=SUMMABLE, names={})
    acme = table.rows[0]
    assert (acme.previous_target, acme.target) == (D(1000), D(1200))
    [warning] = acme.warnings
    assert (warning.children_sum, warning.target) == (D(1000), D(1200))
    assert table.warnings == ()


def test_children_split_with_a_stretch_add_up_to_the_target_times_the_stretch() -> None:
    """goal-service's preview says the stretch each split applied (`stretch` on the
    goals it made, rounded to the parent's `unit` as the split rounds it)."""
    root = goal("goal_acme", None, "1001", org_unit_id="acme", unit=D(10))
    stretched = {"stretch": "1.1", "unit": "10"}
    answer = {
        "summary": {"created": 4, "updated": 0, "kept": 0, "left_alone": 0, "notes": []},
        "changes": [
            change("goal_east", "goal_acme", "550", org_unit_id="east", **stretched),
            change("goal_west", "goal_acme", "550", org_unit_id="west", **stretched),
            # east's own split, stretched too, but its people fall short of 550 x 1.2
            change("goal_ann", "goal_east", "330", org_unit_id="east", stretch="1.2", unit="1"),
            change("goal_bo", "goal_east", "300", org_unit_id="east", stretch="1.2", unit="1"),
        ],
    }
    table = preview(answer, root, money_metrics={"revenue"}, summable=SUMMABLE, names={})
    assert table.warnings == ()  # 1100 is 1001 x 1.1, rounded to tens: on purpose
    east = table.rows[0]
    [short] = east.warnings
    assert short.kind is WarningKind.CHILDREN_DO_NOT_ADD_UP
    assert (short.children_sum, short.target) == (D(630), D(660))


def test_a_preview_without_stretches_adds_children_up_to_the_target() -> None:
    root = goal("goal_acme", None, "1000", org_unit_id="acme")
    answer = {
        "changes": [
            change("goal_east", "goal_acme", "550", org_unit_id="east", stretch=None),
            change("goal_west", "goal_acme", "550", org_unit_id="west", stretch=None),
        ],
    }
    table = preview(answer, root, money_metrics={"revenue"}, summable=SUMMABLE, names={})
    [warning] = table.warnings
    assert (warning.children_sum, warning.target) == (D(1100), D(1000))


# --- form readers and sources --------------------------------------------------------


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True),
        st.decimals(min_value=-(10**9), max_value=10**9, places=4),
        max_size=8,
    )
)
def test_pairs_read_back_what_was_written(pairs: dict[str, Decimal]) -> None:
    typed = ", ".join(f"{key}={value}" for key, value in pairs.items())
    assert pairs_of(typed, "f") == pairs


def test_numbers_and_json_keep_their_digits() -> None:
    assert decimals_of("0.1; 0.2\n0.3", "f") == [D("0.1"), D("0.2"), D("0.3")]
    assert json_of('{"rate": 0.1}', "f", kind=dict) == {"rate": D("0.1")}


def test_each_kind_of_source_has_its_webhook_urls() -> None:
    base = "http://127.0.0.1:8002/"
    generic = webhook_endpoints(base, "our crm", "generic", "whsec_x")
    assert [e.url for e in generic][:2] == [
        "http://127.0.0.1:8002/webhooks/our%20crm/deals",
        "http://127.0.0.1:8002/webhooks/our%20crm/opportunities",
    ]
    assert len(generic) == 5
    [hubspot] = webhook_endpoints(base, "hs", "hubspot", "s")
    assert hubspot.url == "http://127.0.0.1:8002/webhooks/hs/hubspot"
    [salesforce] = webhook_endpoints(base, "sf", "salesforce", "a+b/c")
    assert salesforce.url == "http://127.0.0.1:8002/webhooks/sf/salesforce?token=a%2Bb%2Fc"
