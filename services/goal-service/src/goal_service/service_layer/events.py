"""The integration events that describe a row as it now is."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from attain_contracts import (
    CalendarUpdated,
    GoalArchived,
    GoalUpserted,
    Membership,
    Milestone,
    OrgUnitUpserted,
    Period,
    PersonUpserted,
)
from attain_contracts.types import metric_kind, write_figure
from goal_service.store.tables import CalendarSettings, Goal, OrgUnit, Person
from goal_service.store.tables import Membership as MembershipRow


def calendar_updated(row: CalendarSettings) -> CalendarUpdated:
    return CalendarUpdated(
        timezone=row.timezone,
        fiscal_year_start_month=row.fiscal_year_start_month,
        holidays=row.holidays,
        working_weekends=row.working_weekends,
        version=row.version,
        updated_at=row.updated_at,
    )


def org_unit_upserted(unit: OrgUnit) -> OrgUnitUpserted:
    return OrgUnitUpserted(
        org_unit_id=unit.id,
        name=unit.name,
        kind=unit.kind,
        parent_id=unit.parent_id,
        manager_id=unit.manager_id,
        path=unit.path,
        version=unit.version,
        updated_at=unit.updated_at,
    )


def person_upserted(person: Person, memberships: list[MembershipRow]) -> PersonUpserted:
    return PersonUpserted(
        person_id=person.id,
        name=person.name,
        email=person.email,
        maturity=person.maturity,
        crm_ids=person.crm_ids,
        memberships=[
            Membership(org_unit_id=m.org_unit_id, valid_from=m.valid_from, valid_to=m.valid_to)
            for m in memberships
        ],
        version=person.version,
        updated_at=person.updated_at,
        carries_quota=person.carries_quota,
    )


def goal_upserted(goal: Goal, timezone: str) -> GoalUpserted:
    return GoalUpserted(
        goal_id=goal.id,
        parent_id=goal.parent_id,
        metric=goal.metric,
        direction=goal.direction,
        org_unit_id=goal.org_unit_id,
        person_id=goal.person_id,
        product_line=goal.product_line,
        owner_id=goal.owner_id,
        period=Period(key=goal.period_key, start=goal.period_start, end=goal.period_end),
        timezone=timezone,
        target=goal.target,
        currency=goal.currency,
        status=goal.status,
        method=goal.method,
        milestones=[
            Milestone(on=m["on"], cumulative_target=m["cumulative_target"]) for m in goal.milestones
        ],
        version=goal.version,
        updated_at=goal.updated_at,
    )


def goal_upserted_json(row: dict[str, Any], timezone: str) -> dict[str, Any]:
    """What `goal_upserted(...).model_dump(mode="json")` gives, from a goal's
    column values, without building the model: the bulk path of a plan (a test
    holds the two equal)."""
    return {
        "goal_id": row["id"],
        "parent_id": row["parent_id"],
        "metric": row["metric"],
        "direction": row["direction"],
        "org_unit_id": row["org_unit_id"],
        "person_id": row["person_id"],
        "product_line": row["product_line"],
        "owner_id": row["owner_id"],
        "period": {
            "key": row["period_key"],
            "start": row["period_start"].isoformat(),
            "end": row["period_end"].isoformat(),
        },
        "timezone": timezone,
        "target": write_figure(row["target"], metric_kind(row["metric"]), row["currency"]),
        "currency": row["currency"],
        "status": row["status"],
        "method": row["method"],
        "milestones": [
            {"on": m["on"], "cumulative_target": format(Decimal(m["cumulative_target"]), "f")}
            for m in row["milestones"]
        ],
        "version": row["version"],
        "updated_at": row["updated_at"].isoformat(),
    }


def goal_archived(goal: Goal, reason: str | None, at: datetime) -> GoalArchived:
    return GoalArchived(
        goal_id=goal.id,
        status=goal.status,
        reason=reason,
        version=goal.version,
        archived_at=at,
    )
