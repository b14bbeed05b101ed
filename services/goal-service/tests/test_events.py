"""The bulk path of a plan builds `GoalUpserted` JSON by hand; it must say
exactly what the model says."""

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from attain_contracts import GoalUpserted
from goal_service.service_layer.events import goal_upserted, goal_upserted_json
from goal_service.store.goals import columns_of as _row
from goal_service.store.tables import Goal

amounts = st.decimals(min_value=0, max_value=10**12, places=4, allow_nan=False)


@given(
    target=amounts,
    cumulative=amounts,
    person_id=st.none() | st.just("ann"),
    key=st.none() | st.just("2026-03"),
)
def test_the_hand_built_event_equals_the_models(
    target: Decimal, cumulative: Decimal, person_id: str | None, key: str | None
) -> None:
    goal = Goal(
        id="g-1",
        parent_id="g-0",
        metric="revenue",
        direction="higher_is_better",
        org_unit_id="east",
        person_id=person_id,
        owner_id="ann",
        contributors=[],
        period_key=key,
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        target=target,
        unit=Decimal(1),
        currency="CNY",
        status="active",
        method="time:working_days",
        milestones=[{"on": "2026-03-15", "cumulative_target": str(cumulative)}],
        version=3,
        created_by="planner",
        updated_at=datetime(2026, 1, 5, 8, 30, tzinfo=UTC),
    )
    built = goal_upserted_json(_row(goal), "Asia/Shanghai")
    written = goal_upserted(goal, "Asia/Shanghai").model_dump(mode="json")
    # Both written as a figure is (the target in its currency's minor units).
    assert GoalUpserted.model_validate(built) == GoalUpserted.model_validate(written)
    assert built == written | {
        "updated_at": built["updated_at"]  # the model writes Z, isoformat +00:00: one instant
    }
