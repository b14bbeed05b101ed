"""The batch path builds `ActualRecorded` JSON by hand; it must say exactly what the
model says."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain_contracts import ActualRecorded
from tracking_service.service_layer.ingest import actual_recorded_json
from tracking_service.store.ledger import NewEntry

pytestmark = pytest.mark.unit


def as_model(entry: NewEntry) -> ActualRecorded:
    """The event as the model builds it: the oracle."""
    return ActualRecorded(
        entry_id=str(entry.id),
        deal_id=entry.record_id,
        record_kind=entry.record_kind,  # type: ignore[arg-type]
        source=entry.source_id,
        metric=entry.metric,
        person_id=entry.person_id,
        org_path=entry.org_path,
        product_line=entry.product_line,
        credited_on=entry.credited_on,
        amount=entry.amount,
        currency=entry.currency,
        reason=entry.reason,
        deal_version=entry.record_version,
        recorded_at=entry.recorded_at,
        record_id=entry.record_id,
        record_version=entry.record_version,
    )


@given(
    amount=st.decimals(min_value=-(10**12), max_value=10**12, places=6, allow_nan=False),
    money=st.sampled_from([("revenue", "CNY"), ("collections", "JPY"), ("revenue", "BHD")])
    | st.sampled_from([("deals_won", None), ("new_customers", None), ("activities", None)]),
    kind=st.sampled_from(["deal", "payment", "lead", "activity"]),
    product_line=st.none() | st.just("cloud"),
    org_path=st.lists(st.sampled_from(["acme", "east", "east-1"]), max_size=3),
    offset_hours=st.integers(min_value=-12, max_value=14),
)
def test_the_hand_built_event_equals_the_models(
    amount: Decimal,
    money: tuple[str, str | None],
    kind: str,
    product_line: str | None,
    org_path: list[str],
    offset_hours: int,
) -> None:
    metric, currency = money
    entry = NewEntry(
        id=UUID("12345678-1234-5678-1234-567812345678"),
        source_id="crm",
        record_kind=kind,
        record_id="D-1",
        metric=metric,
        person_id="ann",
        org_path=org_path,
        product_line=product_line,
        credited_on=date(2026, 3, 31),
        amount=amount,
        currency=currency,
        reason="won",
        record_version=7,
        recorded_at=datetime(2026, 4, 1, 9, 30, tzinfo=timezone(timedelta(hours=offset_hours))),
    )
    built = actual_recorded_json(entry)
    written = as_model(entry).model_dump(mode="json")
    assert ActualRecorded.model_validate(built) == ActualRecorded.model_validate(written)
    # The model writes UTC as Z, isoformat as +00:00: the same instant.
    assert built == written | {"recorded_at": built["recorded_at"]}
    assert datetime.fromisoformat(built["recorded_at"]) == entry.recorded_at.astimezone(UTC)
