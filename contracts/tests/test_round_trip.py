import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import AwareDatetime, BaseModel

from attain_contracts import EVENT_TYPES, EarningsUpdated, Envelope, Event, Money, Period
from attain_contracts.schemagen import envelope_schema, event_schema
from attain_contracts.types import (
    CountString,
    CurrencyCode,
    DecimalString,
    MoneyString,
    RatioString,
)

pytestmark = pytest.mark.unit

instants = st.datetimes(
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5))])
)
# A period refuses an end before its start.
periods = st.builds(
    lambda key, one, other: Period(key=key, start=min(one, other), end=max(one, other)),
    st.none() | st.text(),
    st.dates(),
    st.dates(),
)
# Annotated aliases hold unhashable metadata, so these are matched by equality.
LEAVES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (DecimalString, st.decimals(allow_nan=False, allow_infinity=False)),
    (MoneyString, st.decimals(allow_nan=False, allow_infinity=False)),
    (RatioString, st.decimals(allow_nan=False, allow_infinity=False)),
    (CountString, st.decimals(allow_nan=False, allow_infinity=False)),
    (CurrencyCode, st.from_regex(r"[A-Z]{3}", fullmatch=True)),
    (AwareDatetime, instants),
    (date, st.dates()),
    (str, st.text()),
    (bool, st.booleans()),
    (int, st.integers()),
    (NoneType, st.none()),
    (Period, periods),
]


def strategy_for(annotation: Any) -> st.SearchStrategy[Any]:
    for leaf, strategy in LEAVES:
        if annotation == leaf:
            return strategy
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (Union, UnionType):
        return st.one_of([strategy_for(arg) for arg in args])
    if origin is list:
        return st.lists(strategy_for(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(strategy_for(args[0]), strategy_for(args[1]), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return instances_of(annotation)
    raise TypeError(f"no strategy for {annotation!r}")


def instances_of(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    hints = get_type_hints(model, include_extras=True)
    return st.builds(model, **{name: strategy_for(hints[name]) for name in model.model_fields})


def validate(instance: Any, schema: dict[str, Any]) -> None:
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
        instance
    )


@pytest.mark.parametrize("model", EVENT_TYPES.values(), ids=lambda model: model.type)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_event_survives_the_envelope_and_matches_its_schema(model: type[Event], data):
    event = data.draw(instances_of(model))
    envelope = Envelope.wrap(
        event,
        source=data.draw(st.text()),
        time=data.draw(instants),
        correlation_id=data.draw(st.none() | st.text()),
        event_id=data.draw(st.uuids()),
    )

    received = Envelope.from_bytes(envelope.to_bytes())

    assert received == envelope
    assert received.subject == event.key()
    # Figures are written rounded (money to its minor units, ratios to 4 places):
    # what is read back is the event as written, and writes the same again.
    assert received.event() == model.model_validate(envelope.data)
    assert received.event().model_dump(mode="json") == event.model_dump(mode="json")
    wire = json.loads(envelope.to_bytes())
    validate(wire, envelope_schema())
    validate(wire["data"], event_schema(model))


def test_money_travels_as_a_decimal_string():
    event = EarningsUpdated(
        statement_id="st-1",
        person_id="p-1",
        period_key="2025-Q1",
        total=Money(amount=Decimal("1E+3"), currency="EUR"),
        version=1,
        updated_at=datetime(2025, 3, 31, tzinfo=UTC),
    )
    envelope = Envelope.wrap(
        event, source="incentive-service", time=event.updated_at, event_id=UUID(int=1)
    )

    wire = json.loads(envelope.to_bytes())

    assert wire["data"]["total"] == {"amount": "1000.00", "currency": "EUR"}
    assert Envelope.from_bytes(envelope.to_bytes()).event() == event
