import copy
from collections.abc import Callable
from typing import Any

import pytest

from attain_contracts.compat import breaking_changes
from attain_contracts.events import EVENT_TYPES, EarningsUpdated, Event, GoalUpserted
from attain_contracts.schemagen import event_schema

pytestmark = pytest.mark.unit

Schema = dict[str, Any]


def changes_after(model: type[Event], edit: Callable[[Schema], None]) -> list[tuple[str, str]]:
    old = event_schema(model)
    new = copy.deepcopy(old)
    edit(new)
    return [(change.path, change.kind) for change in breaking_changes(old, new)]


@pytest.mark.parametrize("model", EVENT_TYPES.values(), ids=lambda model: model.type)
def test_an_unchanged_schema_has_no_breaking_changes(model):
    assert breaking_changes(event_schema(model), event_schema(model)) == []


def test_an_added_optional_property_is_compatible():
    def add_region(schema: Schema) -> None:
        schema["properties"]["region"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}

    assert changes_after(GoalUpserted, add_region) == []


def test_an_added_optional_property_in_a_shared_definition_is_compatible():
    def add_fiscal_year(schema: Schema) -> None:
        schema["$defs"]["Period"]["properties"]["fiscal_year"] = {"type": "integer"}

    assert changes_after(GoalUpserted, add_fiscal_year) == []


def test_a_widened_enum_is_compatible():
    def add_paused(schema: Schema) -> None:
        schema["properties"]["status"]["enum"].append("paused")

    assert changes_after(GoalUpserted, add_paused) == []


def test_a_removed_property_breaks():
    def remove_method(schema: Schema) -> None:
        del schema["properties"]["method"]
        schema["required"].remove("method")

    assert changes_after(GoalUpserted, remove_method) == [("method", "removed")]


def test_a_property_removed_from_a_definition_breaks_where_it_is_used():
    def remove_currency(schema: Schema) -> None:
        del schema["$defs"]["Money"]["properties"]["currency"]
        schema["$defs"]["Money"]["required"].remove("currency")

    assert changes_after(EarningsUpdated, remove_currency) == [("total.currency", "removed")]


def test_a_changed_type_breaks():
    def version_as_string(schema: Schema) -> None:
        schema["properties"]["version"]["type"] = "string"

    assert changes_after(GoalUpserted, version_as_string) == [("version", "changed_type")]


def test_a_changed_format_breaks():
    def date_only(schema: Schema) -> None:
        schema["properties"]["updated_at"]["format"] = "date"

    assert changes_after(GoalUpserted, date_only) == [("updated_at", "changed_type")]


def test_a_changed_pattern_inside_a_definition_breaks():
    def integer_amounts(schema: Schema) -> None:
        schema["$defs"]["Money"]["properties"]["amount"]["pattern"] = r"^-?\d+$"

    assert changes_after(EarningsUpdated, integer_amounts) == [("total.amount", "changed_type")]


def test_a_changed_pattern_inside_a_nullable_breaks():
    def two_letter_currency(schema: Schema) -> None:
        schema["properties"]["currency"]["anyOf"][0]["pattern"] = "^[A-Z]{2}$"

    assert changes_after(GoalUpserted, two_letter_currency) == [("currency", "changed_type")]


def test_a_changed_format_inside_array_items_breaks():
    def datetime_milestones(schema: Schema) -> None:
        schema["$defs"]["Milestone"]["properties"]["on"]["format"] = "date-time"

    assert changes_after(GoalUpserted, datetime_milestones) == [("milestones[].on", "changed_type")]


def test_a_changed_ref_target_breaks():
    def rename_money(schema: Schema) -> None:
        schema["$defs"]["Amount"] = schema["$defs"].pop("Money")
        schema["properties"]["total"]["$ref"] = "#/$defs/Amount"

    assert changes_after(EarningsUpdated, rename_money) == [("total", "changed_type")]


def test_a_required_property_that_becomes_nullable_breaks():
    def nullable_owner(schema: Schema) -> None:
        schema["properties"]["owner_id"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}

    assert changes_after(GoalUpserted, nullable_owner) == [("owner_id", "changed_type")]


def test_a_narrowed_enum_breaks():
    def drop_draft(schema: Schema) -> None:
        schema["properties"]["status"]["enum"].remove("draft")

    assert changes_after(GoalUpserted, drop_draft) == [("status", "changed_type")]


def test_a_property_that_becomes_required_breaks():
    def require_product_line(schema: Schema) -> None:
        schema["required"].append("product_line")

    assert changes_after(GoalUpserted, require_product_line) == [
        ("product_line", "became_required")
    ]


def test_a_new_required_property_breaks():
    def add_required_region(schema: Schema) -> None:
        schema["properties"]["region"] = {"type": "string"}
        schema["required"].append("region")

    assert changes_after(GoalUpserted, add_required_region) == [("region", "new_required")]


def test_a_new_required_property_inside_a_definition_breaks():
    def add_required_fiscal_year(schema: Schema) -> None:
        schema["$defs"]["Period"]["properties"]["fiscal_year"] = {"type": "integer"}
        schema["$defs"]["Period"]["required"].append("fiscal_year")

    assert changes_after(GoalUpserted, add_required_fiscal_year) == [
        ("period.fiscal_year", "new_required")
    ]


def test_a_recursive_definition_is_compared_without_looping():
    def org_tree(child_type: str) -> Schema:
        node = {
            "type": "object",
            "properties": {
                "name": {"type": child_type},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
            },
        }
        return {"$defs": {"Node": node}, "$ref": "#/$defs/Node"}

    assert breaking_changes(org_tree("string"), org_tree("string")) == []
    assert [
        (c.path, c.kind) for c in breaking_changes(org_tree("string"), org_tree("integer"))
    ] == [("name", "changed_type")]
