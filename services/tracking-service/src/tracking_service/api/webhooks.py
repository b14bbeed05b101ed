"""CRM webhooks. The generic one is signed per the Standard Webhooks spec and
takes one record of a kind in our JSON shape, or in the source's own shape when
the source has a field mapping. Each answers only after the change is committed;
an unknown source gets the same 401 as a bad signature, so there is nothing to probe."""

import binascii
import hmac
from typing import Literal

from fastapi import APIRouter, Request, Response
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from servicekit.problems import InvalidInput, Unauthorized
from tracking_service.api.dependencies import Runtime
from tracking_service.api.recording import RecordAccepted, parse_json, parse_record
from tracking_service.domain import hubspot, salesforce
from tracking_service.domain.mapping import (
    MappingError,
    RecordMapping,
    SourceMapping,
    apply_mapping,
)
from tracking_service.service_layer.group_commit import group_commit
from tracking_service.service_layer.records import MODELS
from tracking_service.service_layer.sources import find_source
from tracking_service.service_layer.unit import Source
from tracking_service.settings import TrackingSettings

router = APIRouter(tags=["webhooks"])

Kind = Literal["deals", "opportunities", "payments", "leads", "activities"]


@router.post(
    "/webhooks/{source_id}/hubspot",
    response_model=list[RecordAccepted],
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {}}}}},
)
async def receive_hubspot(
    source_id: str, request: Request, runtime: Runtime
) -> list[RecordAccepted]:
    """HubSpot deals (a CRM object, a workflow webhook's payload, or a list of them),
    signed with HubSpot's v3 signature over the app's client secret."""
    body = await request.body()
    source = await find_source(runtime, source_id)
    if source is None or source.kind != "hubspot":
        raise Unauthorized("the webhook signature does not verify")
    try:
        hubspot.verify_v3(
            source.secret,
            request.method,
            _called_uri(request, runtime.settings),
            body,
            request.headers.get("x-hubspot-request-timestamp"),
            request.headers.get("x-hubspot-signature-v3"),
            runtime.clock.now(),
        )
    except hubspot.SignatureRejected as error:
        raise Unauthorized(f"the HubSpot signature does not verify: {error.reason}") from error
    try:
        deals = hubspot.hubspot_records(parse_json(body))
    except hubspot.HubSpotPayloadInvalid as error:
        raise InvalidInput(error.reason) from error
    default = hubspot.deal_mapping(runtime.settings.base_currency)
    records = [parse_record("deals", mapped(source, "deals", deal, default)) for deal in deals]
    outcomes = await group_commit(runtime).apply(source_id, records)
    return [RecordAccepted.of(outcome) for outcome in outcomes]


@router.post(
    "/webhooks/{source_id}/salesforce",
    response_class=Response,
    responses={200: {"content": {"text/xml": {}}, "description": "the Ack that stops retries"}},
    openapi_extra={"requestBody": {"content": {"text/xml": {"schema": {"type": "string"}}}}},
)
async def receive_salesforce(
    source_id: str, request: Request, runtime: Runtime, token: str = ""
) -> Response:
    """Salesforce Outbound Messages for Opportunities. They are not signed: the
    endpoint URL carries the source's token, and the organization id must match.
    The `Ack` is sent only once the opportunities are committed; anything else
    (an error) makes Salesforce retry."""
    body = await request.body()
    source = await find_source(runtime, source_id)
    if (
        source is None
        or source.kind != "salesforce"
        or not hmac.compare_digest(token.encode(), source.secret.encode())
    ):
        raise Unauthorized("unknown source or wrong token")
    try:
        message = salesforce.parse_outbound_message(body)
    except salesforce.OutboundMessageInvalid as error:
        raise InvalidInput(error.reason) from error
    if not salesforce.same_organization(source.organization_id or "", message.organization_id):
        raise Unauthorized("the message comes from another Salesforce organization")
    default = salesforce.opportunity_mapping(runtime.settings.base_currency)
    records = [
        parse_record("deals", mapped(source, "deals", n.sobject, default))
        for n in message.notifications
        if n.sobject.get("type") == "sf:Opportunity"
    ]
    if records:
        await group_commit(runtime).apply(source_id, records)
    return Response(salesforce.ack_response(), media_type="text/xml; charset=utf-8")


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
    source_id: str, kind: Kind, request: Request, runtime: Runtime
) -> RecordAccepted:
    body = await request.body()
    source = await find_source(runtime, source_id)
    if (
        source is None
        or source.kind != "generic"
        or not signed_by(source.secret, body, dict(request.headers))
    ):
        raise Unauthorized("the webhook signature does not verify")
    # Standard Webhooks' idempotency key: a message already committed is not applied again.
    webhook_id = request.headers["webhook-id"]
    data = mapped(source, kind, parse_json(body))
    (outcome,) = await group_commit(runtime).apply(
        source_id, [parse_record(kind, data)], webhook_id=webhook_id
    )
    return RecordAccepted.of(outcome)


def signed_by(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError, binascii.Error):
        return False
    return True


def _called_uri(request: Request, settings: TrackingSettings) -> str:
    """The URL as the caller used it: the public base URL when we are behind a proxy,
    then the path and query exactly as sent (HubSpot signs them undecoded)."""
    base = settings.public_base_url or f"{request.url.scheme}://{request.url.netloc}"
    uri = base.rstrip("/") + request.scope["raw_path"].decode()
    query = request.scope.get("query_string", b"").decode()
    return f"{uri}?{query}" if query else uri


def mapped(source: Source, kind: str, data: object, default: RecordMapping | None = None) -> object:
    """The source's own shape mapped to ours: by the source's mapping for `kind` when
    it has one, else by the adapter's `default`, else taken as ours."""
    collection = "deals" if kind == "opportunities" else kind
    mapping = default
    if source.mapping:
        custom = SourceMapping.model_validate(source.mapping).root
        mapping = custom.get(collection, default)  # type: ignore[call-overload]
    if mapping is None:
        return data
    try:
        return apply_mapping(data, mapping)
    except MappingError as error:
        raise InvalidInput(f"{error.field}: {error.reason}", field=error.field) from error
