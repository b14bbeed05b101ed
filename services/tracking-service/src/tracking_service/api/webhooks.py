"""CRM webhooks. The generic one is signed per the Standard Webhooks spec and
takes one record of a kind in our JSON shape, or in the source's own shape when
the source has a field mapping. Each answers only after the change is committed;
an unknown source gets the same 401 as a bad signature, so there is nothing to probe."""

import binascii
from typing import Literal

from fastapi import APIRouter, Request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from servicekit.app import RuntimeDep, ServiceRuntime
from servicekit.problems import InvalidInput, Unauthorized
from tracking_service.api.recording import RecordAccepted, apply, parse_json, parse_record
from tracking_service.domain.mapping import MappingError, SourceMapping, apply_mapping
from tracking_service.records import MODELS
from tracking_service.store import queries
from tracking_service.store.tables import Source

router = APIRouter(tags=["webhooks"])

Kind = Literal["deals", "opportunities", "payments", "leads", "activities"]


@router.post(
    "/webhooks/{source_id}/{kind}",
    response_model=RecordAccepted,
    openapi_extra={
        "requestBody": {
            "description": "one record in the generic shape of its kind (see the README)",
            "content": {"application/json": {"schema": MODELS["deals"].model_json_schema()}},
        }
    },
)
async def receive_record(
    source_id: str, kind: Kind, request: Request, runtime: RuntimeDep
) -> RecordAccepted:
    body = await request.body()
    source = await find_source(runtime, source_id)
    if (
        source is None
        or source.kind != "generic"
        or not signed_by(source.secret, body, dict(request.headers))
    ):
        raise Unauthorized("the webhook signature does not verify")
    data = mapped(source, kind, parse_json(body))
    (outcome,) = await apply(runtime, source_id, [parse_record(kind, data)])
    return RecordAccepted.of(outcome)


async def find_source(runtime: ServiceRuntime, source_id: str) -> Source | None:
    """The source, read in a short transaction of its own (the records are applied in another)."""
    async with runtime.unit_of_work() as uow:
        source = await queries.source(uow.session, source_id)
        if source is not None:
            uow.session.expunge(source)
        return source


def signed_by(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError, binascii.Error):
        return False
    return True


def mapped(source: Source, kind: str, data: object) -> object:
    """The source's own shape mapped to ours, when the source has a mapping for `kind`."""
    if not source.mapping:
        return data
    collection = "deals" if kind == "opportunities" else kind
    mapping = SourceMapping.model_validate(source.mapping).root.get(collection)  # type: ignore[call-overload]
    if mapping is None:
        return data
    try:
        return apply_mapping(data, mapping)
    except MappingError as error:
        raise InvalidInput(f"{error.field}: {error.reason}", field=error.field) from error
