"""The HubSpot adapter: the v3 request signature, the deals in a request body,
and the default mapping from a HubSpot deal to ours.

Sources:
- v3 signature: https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests
  (same rule for new apps: https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation,
  announced in https://developers.hubspot.com/changelog/introducing-version-3-of-webhook-signatures)
- CRM v3 deal objects: https://developers.hubspot.com/docs/api/crm/deals
- the legacy deal shape, each property an object with a "value":
  https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/deals/v1/get-deals-v1-dealdeal-id
- webhook subscription notifications (objectId, subscriptionType, propertyName):
  https://developers.hubspot.com/docs/api/webhooks
- the workflow "Send a webhook" action:
  https://knowledge.hubspot.com/workflows/how-do-i-use-webhooks-with-hubspot-workflows"""

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta
from typing import Any

from tracking_service.domain.mapping import EPOCH, RecordMapping, path_when

# HubSpot's rule: reject a request whose timestamp is older than 5 minutes. We
# also reject one more than 5 minutes ahead of our clock, which no honest
# sender produces and which would otherwise stay replayable for longer.
TIMESTAMP_TOLERANCE = timedelta(minutes=5)

# HubSpot signs the URI with these characters decoded (the doc's table), so a
# URI as received must have them decoded before it is hashed.
_DECODED_IN_SIGNED_URI = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)


# The default pipeline's closed stages; other pipelines have stage ids of their own.
CLOSED_STAGES = {"closedwon": "won", "closedlost": "lost"}


class SignatureRejected(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HubSpotPayloadInvalid(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify_v3(
    client_secret: str,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: datetime,
) -> None:
    """Accept a request signed per HubSpot's v3 scheme, or raise `SignatureRejected`.
    `uri` is the full URL HubSpot called (scheme, host, path and query string),
    `body` the raw bytes, `timestamp` and `signature` the X-HubSpot-Request-Timestamp
    and X-HubSpot-Signature-v3 headers."""
    if not timestamp or not signature:
        raise SignatureRejected(
            "missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp header"
        )
    sent_at = _request_time(timestamp)
    if now - sent_at > TIMESTAMP_TOLERANCE:
        raise SignatureRejected("the request timestamp is more than 5 minutes old")
    if sent_at - now > TIMESTAMP_TOLERANCE:
        raise SignatureRejected("the request timestamp is more than 5 minutes in the future")
    expected = signature_v3(client_secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureRejected("the X-HubSpot-Signature-v3 signature does not match")


def signature_v3(client_secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """base64(HMAC-SHA256(client secret, method + uri + body + timestamp)), the
    text UTF-8 encoded."""
    signed_uri = _DECODED_IN_SIGNED_URI.sub(lambda match: chr(int(match[1], 16)), uri)
    message = method.encode() + signed_uri.encode() + body + timestamp.encode()
    digest = hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _request_time(timestamp: str) -> datetime:
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise SignatureRejected("X-HubSpot-Request-Timestamp is not milliseconds since the epoch")
    try:
        return EPOCH + timedelta(milliseconds=int(timestamp))
    except OverflowError:
        raise SignatureRejected("X-HubSpot-Request-Timestamp is out of range") from None


def hubspot_records(payload: Any) -> list[dict[str, Any]]:
    """The deal objects in a request body (one object or an array of them), each
    property a plain value: `{"id": ..., "properties": {"amount": "1000", ...}}`."""
    items = payload if isinstance(payload, list) else [payload]
    return [_deal_record(item) for item in items]


def _deal_record(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise HubSpotPayloadInvalid("expected a HubSpot deal object or an array of them")
    properties = item.get("properties")
    if properties is None and ("subscriptionType" in item or "propertyName" in item):
        raise HubSpotPayloadInvalid(
            f"a {item.get('subscriptionType', 'webhook')} notification names what changed, "
            "not the deal; the HubSpot adapter needs the deal's properties: configure the "
            "workflow's 'Send a webhook' action to send them"
        )
    if not isinstance(properties, dict):
        raise HubSpotPayloadInvalid("a HubSpot deal needs its properties object")
    return {**item, "properties": {name: _plain(value) for name, value in properties.items()}}


def _plain(value: Any) -> Any:
    # The legacy shape wraps each property: {"value": "1000", "timestamp": ...,
    # "source": ..., "versions": [...]}; CRM v3 objects give the value itself.
    return value.get("value") if isinstance(value, dict) else value


def deal_mapping(base_currency: str, product_line_property: str | None = None) -> RecordMapping:
    """From a HubSpot deal (as `hubspot_records` gives it) to our deal.

    `dealstage` values are pipeline stage ids: `closedwon` and `closedlost` are
    the default pipeline's; a portal with other pipelines configures its own
    mapping. Dates come as ISO text from the CRM v3 API and as epoch milliseconds
    in the legacy shape; a date-time's date is its UTC date. `closedate` is when
    a closed deal closed, and when an open one is expected to."""
    stage, close_date = "properties.dealstage", "properties.closedate"
    fields: dict[str, Any] = {
        "id": {"path": "objectId || id || dealId", "as": "string"},
        "amount": {"path": "properties.amount", "as": "decimal"},
        # A deal without a dealstage maps to no stage (422) rather than to open,
        # which would take back what a won deal credited.
        "stage": {"path": stage, "values": CLOSED_STAGES, "otherwise": "open"},
        "closed_on": {
            "path": path_when(close_date, stage, CLOSED_STAGES),
            "as": "date_or_epoch_ms",
        },
        "expected_close_on": {
            "path": path_when(close_date, stage, CLOSED_STAGES, holds=False),
            "as": "date_or_epoch_ms",
        },
        "created_on": {"path": "properties.createdate", "as": "date_or_epoch_ms"},
        "updated_at": {"path": "properties.hs_lastmodifieddate", "as": "datetime_or_epoch_ms"},
        "owner_id": {"path": "properties.hubspot_owner_id", "as": "string"},
        "currency": {"path": "properties.deal_currency_code", "default": base_currency},
        "customer_id": {
            "path": "associations.companies.results[0].id || associations.associatedCompanyIds[0]",
            "as": "string",
        },
    }
    if product_line_property is not None:
        # A JSON string literal is a quoted JMESPath identifier, whatever the name holds.
        quoted = json.dumps(product_line_property)
        fields["product_line"] = {"path": f"properties.{quoted}", "as": "string"}
    return RecordMapping.model_validate(fields)
