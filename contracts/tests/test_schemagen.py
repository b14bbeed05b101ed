import pytest
from jsonschema import Draft202012Validator

from attain_contracts import topics
from attain_contracts.events import EVENT_TYPES, ActualRecorded, GoalUpserted
from attain_contracts.schemagen import (
    CONTRACTS_ROOT,
    REGENERATE,
    asyncapi_document,
    envelope_schema,
    event_schema,
    main,
    partition_key_field,
    publishing_service,
    render_json,
    rendered_files,
    schema_file,
    stale_files,
)

pytestmark = pytest.mark.unit


def test_checked_in_contract_files_match_the_models():
    stale = stale_files(CONTRACTS_ROOT, rendered_files())
    assert not stale, f"stale contract files {stale}: run `{REGENERATE}` and commit the result"


def test_check_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    for path, text in rendered_files().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    (tmp_path / schema_file(ActualRecorded.type)).write_text("{}\n")
    monkeypatch.setattr("attain_contracts.schemagen.CONTRACTS_ROOT", tmp_path)

    assert main(["--check"]) == 1
    assert f"{ActualRecorded.type}.json" in capsys.readouterr().err


def test_generator_refuses_to_overwrite_a_schema_with_a_breaking_change(tmp_path, monkeypatch):
    old = event_schema(ActualRecorded)
    old["properties"]["legacy_id"] = {"type": "string"}
    path = tmp_path / schema_file(ActualRecorded.type)
    path.parent.mkdir()
    path.write_text(render_json(old))
    monkeypatch.setattr("attain_contracts.schemagen.CONTRACTS_ROOT", tmp_path)

    assert main([]) == 1
    assert "legacy_id" in path.read_text()
    assert not (tmp_path / "asyncapi.yaml").exists()


def test_rendering_is_deterministic():
    assert rendered_files() == rendered_files()


@pytest.mark.parametrize("model", EVENT_TYPES.values(), ids=lambda model: model.type)
def test_event_schema_is_valid_and_named_by_its_type(model):
    schema = event_schema(model)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == schema["title"] == model.type


def test_envelope_schema_is_valid():
    Draft202012Validator.check_schema(envelope_schema())


def test_publisher_is_named_by_the_second_segment_of_the_type():
    assert publishing_service("attain.goal.GoalUpserted.v1") == "goal-service"
    assert publishing_service("attain.tracking.ActualRecorded.v1") == "tracking-service"


def test_partition_key_field_is_the_field_key_reads():
    assert partition_key_field(ActualRecorded) == "deal_id"
    assert partition_key_field(GoalUpserted) == "goal_id"


def test_asyncapi_has_every_topic_as_a_channel():
    assert set(asyncapi_document()["channels"]) == set(topics.ALL)


@pytest.mark.parametrize("model", EVENT_TYPES.values(), ids=lambda model: model.type)
def test_asyncapi_lists_each_event_on_its_topic_with_its_publisher(model):
    document = asyncapi_document()
    message = document["components"]["messages"][model.type]
    channel = document["channels"][model.topic]
    operation = document["operations"][f"{publishing_service(model.type)}.publish.{model.topic}"]

    assert channel["messages"][model.type] == {"$ref": f"#/components/messages/{model.type}"}
    assert operation["action"] == "send"
    assert {"$ref": f"#/channels/{model.topic}/messages/{model.type}"} in operation["messages"]
    _envelope, specific = message["payload"]["allOf"]
    assert specific["properties"]["data"] == {"$ref": f"./{schema_file(model.type)}"}
    assert partition_key_field(model) in message["bindings"]["kafka"]["key"]["description"]
