"""Renders the published contract from the models: a JSON Schema per event type
and version, the envelope's schema, and an AsyncAPI document of every topic.

    uv run python -m attain_contracts.schemagen          # write the files
    uv run python -m attain_contracts.schemagen --check  # exit 1 when they are stale
"""

import argparse
import inspect
import json
import sys
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from attain_contracts import topics
from attain_contracts.compat import BreakingChange, breaking_changes
from attain_contracts.envelope import Envelope
from attain_contracts.events import EVENT_TYPES, Event

CONTRACTS_ROOT = Path(__file__).resolve().parents[2]
ENVELOPE_SCHEMA = "schemas/envelope.json"
ASYNCAPI = "asyncapi.yaml"
REGENERATE = "uv run python -m attain_contracts.schemagen"

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Matches servicekit's `content-type` header: the envelope travels in
# CloudEvents structured mode.
CONTENT_TYPE = "application/cloudevents+json"
KAFKA_BINDING_VERSION = "0.5.0"


def schema_file(event_type: str) -> str:
    return f"schemas/{event_type}.json"


def event_schema(model: type[Event]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="serialization")
    return {**schema, "$schema": JSON_SCHEMA_DIALECT, "$id": model.type, "title": model.type}


def envelope_schema() -> dict[str, Any]:
    schema = Envelope.model_json_schema(mode="serialization")
    return {**schema, "$schema": JSON_SCHEMA_DIALECT, "$id": "envelope"}


def publishing_service(event_type: str) -> str:
    """`attain.goal.GoalUpserted.v1` is published by goal-service."""
    return f"{event_type.split('.')[1]}-service"


def partition_key_field(model: type[Event]) -> str:
    # The key is a method, not data: asked on an instance whose every field
    # holds its own name, it answers with the name of the field it reads.
    probe = model.model_construct(None, **{name: name for name in model.model_fields})
    return probe.key()


def asyncapi_document() -> dict[str, Any]:
    models = list(EVENT_TYPES.values())
    unlisted = sorted({m.topic for m in models} - set(topics.ALL))
    if unlisted:
        raise ValueError(f"event topics missing from topics.ALL: {unlisted}")
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Attain events",
            "version": version("attain-contracts"),
            "description": (
                "Integration events between Attain services. Each message is a CloudEvents 1.0"
                " envelope in structured mode whose `data` is the event; its Kafka key and"
                " CloudEvents `subject` are the event's partition key."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": {
            topic: _channel(topic, [m for m in models if m.topic == topic]) for topic in topics.ALL
        },
        "operations": _operations(models),
        "components": {"messages": {m.type: _message(m) for m in models}},
    }


def _channel(topic: str, models: list[type[Event]]) -> dict[str, Any]:
    channel: dict[str, Any] = {"address": topic}
    if topic == topics.DEAD_LETTER:
        channel["description"] = (
            "Events a consumer could not process, sent with the error by the consuming service."
        )
    if models:
        channel["messages"] = {m.type: {"$ref": f"#/components/messages/{m.type}"} for m in models}
    channel["bindings"] = {
        "kafka": {
            "topic": topic,
            "partitions": topics.DEFAULT_PARTITIONS,
            "bindingVersion": KAFKA_BINDING_VERSION,
        }
    }
    return channel


def _operations(models: list[type[Event]]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for model in models:
        service = publishing_service(model.type)
        operation = operations.setdefault(
            f"{service}.publish.{model.topic}",
            {
                "action": "send",
                "channel": {"$ref": f"#/channels/{model.topic}"},
                "summary": f"{service} publishes to {model.topic}",
                "tags": [{"name": service}],
                "messages": [],
            },
        )
        operation["messages"].append({"$ref": f"#/channels/{model.topic}/messages/{model.type}"})
    return operations


def _message(model: type[Event]) -> dict[str, Any]:
    key = partition_key_field(model)
    key_note = f"Partition key: `{key}`, also the CloudEvents `subject`."
    doc = inspect.cleandoc(model.__doc__) if model.__doc__ else None
    return {
        "name": model.__name__,
        "title": model.type,
        "summary": f"{model.__name__}, published by {publishing_service(model.type)}.",
        "description": f"{doc}\n\n{key_note}" if doc else key_note,
        "payload": {
            "allOf": [
                {"$ref": f"./{ENVELOPE_SCHEMA}"},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": model.type},
                        "subject": {"type": "string", "description": f"`{key}` of the event"},
                        "data": {"$ref": f"./{schema_file(model.type)}"},
                    },
                },
            ]
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"`{key}` of the event"},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def render_json(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_yaml(document: Mapping[str, Any]) -> str:
    # Insertion order reads top-down the way the AsyncAPI spec lays a document out.
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def rendered_files() -> dict[str, str]:
    """Every generated file, by its path relative to the contracts folder."""
    files = {schema_file(m.type): render_json(event_schema(m)) for m in EVENT_TYPES.values()}
    files[ENVELOPE_SCHEMA] = render_json(envelope_schema())
    files[ASYNCAPI] = render_yaml(asyncapi_document())
    return files


def stale_files(root: Path, files: Mapping[str, str]) -> list[str]:
    """The files under `root` that are missing or differ from `files`."""
    return [path for path, text in files.items() if _read(root / path) != text]


def breaking_schema_changes(
    root: Path, files: Mapping[str, str]
) -> dict[str, list[BreakingChange]]:
    """For each schema on disk, what the rendered one would break."""
    found = {}
    for path, text in files.items():
        on_disk = _read(root / path)
        if path.endswith(".json") and on_disk is not None:
            changes = breaking_changes(json.loads(on_disk), json.loads(text))
            if changes:
                found[path] = changes
    return found


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m attain_contracts.schemagen",
        description="Write the JSON Schemas and AsyncAPI document rendered from the models.",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 listing the stale files"
    )
    args = parser.parse_args(argv)
    files = rendered_files()

    if args.check:
        stale = stale_files(CONTRACTS_ROOT, files)
        for path in stale:
            print(f"stale: {CONTRACTS_ROOT / path}", file=sys.stderr)
        if stale:
            print(f"run `{REGENERATE}` and commit the result", file=sys.stderr)
        return 1 if stale else 0

    # Overwriting would hide the break from the compatibility test, so refuse:
    # a breaking change ships as a new version of the event type.
    breaking = breaking_schema_changes(CONTRACTS_ROOT, files)
    for path, changes in breaking.items():
        for change in changes:
            print(f"breaking: {path}: {change}", file=sys.stderr)
    if breaking:
        print("wrote nothing: add a new version of the event type instead", file=sys.stderr)
        return 1

    for path in stale_files(CONTRACTS_ROOT, files):
        target = CONTRACTS_ROOT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(files[path], encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
