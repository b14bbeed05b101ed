"""Salesforce Outbound Messages: the SOAP notification Salesforce sends when a
workflow rule or flow fires, the acknowledgement that stops its retries, and
the default mapping from an Opportunity to our deal.

Sources:
- the notifications() message, OpportunityNotification and notificationsResponse/Ack:
  https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html
- outbound messaging, delivery and retries:
  https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging.html
- 15- and 18-character IDs:
  https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm"""

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from tracking_service.domain.mapping import RecordMapping, path_when

SOAP_ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
SOBJECT = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# StageName's standard closed values.
CLOSED_STAGES = {"Closed Won": "won", "Closed Lost": "lost"}


class OutboundMessageInvalid(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Notification:
    id: str
    sobject: dict[str, str]
    """Field name → text as sent, and `type`, the sObject's xsi:type (e.g.
    "sf:Opportunity"). A field sent as xsi:nil is left out."""


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    action_id: str
    session_id: str | None
    notifications: list[Notification]


def parse_outbound_message(body: bytes) -> OutboundMessage:
    try:
        # A SOAP 1.1 message must not contain a DTD, so forbidding it costs
        # nothing and stops entity expansion (billion laughs) and external entities.
        envelope = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as error:
        raise OutboundMessageInvalid(f"not a well-formed XML message: {error}") from None
    if envelope.tag != f"{{{SOAP_ENVELOPE}}}Envelope":
        raise OutboundMessageInvalid("not a SOAP 1.1 envelope")
    message = envelope.find(f"{{{SOAP_ENVELOPE}}}Body/{{{OUTBOUND}}}notifications")
    if message is None:
        raise OutboundMessageInvalid("the SOAP body holds no outbound messaging notifications")
    return OutboundMessage(
        organization_id=_required(message, "OrganizationId"),
        action_id=_required(message, "ActionId"),
        session_id=_optional(message, "SessionId"),
        notifications=[
            _notification(notification)
            for notification in message.iterfind(f"{{{OUTBOUND}}}Notification")
        ],
    )


def _notification(notification: Element) -> Notification:
    sobject = notification.find(f"{{{OUTBOUND}}}sObject")
    if sobject is None:
        raise OutboundMessageInvalid("a Notification holds no sObject")
    fields = {
        field.tag.removeprefix(f"{{{SOBJECT}}}"): field.text or ""
        for field in sobject
        if field.tag.startswith(f"{{{SOBJECT}}}") and not _nil(field)
    }
    return Notification(
        id=_required(notification, "Id"),
        sobject={"type": sobject.get(f"{{{XSI}}}type", ""), **fields},
    )


def _required(parent: Element, name: str) -> str:
    text = _optional(parent, name)
    if not text:
        raise OutboundMessageInvalid(f"{name} is missing")
    return text


def _optional(parent: Element, name: str) -> str | None:
    element = parent.find(f"{{{OUTBOUND}}}{name}")
    if element is None or _nil(element):
        return None
    return element.text or ""


def _nil(element: Element) -> bool:
    return element.get(f"{{{XSI}}}nil") in ("true", "1")


def ack_response(ack: bool = True) -> bytes:
    """The notificationsResponse Salesforce waits for; until it gets Ack true it
    keeps resending the message."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENVELOPE}">'
        "<soapenv:Body>"
        f'<notificationsResponse xmlns="{OUTBOUND}">'
        f"<Ack>{'true' if ack else 'false'}</Ack>"
        "</notificationsResponse>"
        "</soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode()


def same_organization(configured: str, received: str) -> bool:
    """An org id is 15 case-sensitive characters, or those 15 followed by a
    3-character suffix that makes it safe to compare case-insensitively; either
    form names the same org."""
    if len(configured) not in (15, 18) or len(received) not in (15, 18):
        return False
    return configured[:15] == received[:15]


def opportunity_mapping(base_currency: str) -> RecordMapping:
    """From an Opportunity sObject (`Notification.sobject`) to our deal.

    The stage comes from StageName's standard values "Closed Won" and "Closed
    Lost"; an org that renamed them configures its own mapping. IsWon and
    IsClosed would survive a rename, but an outbound message carries only the
    fields its author picked, and one rule is easier to check than two.
    CloseDate is when a closed opportunity closed, and when an open one is
    expected to.
    CurrencyIsoCode exists only in multi-currency orgs."""
    return RecordMapping.model_validate(
        {
            "id": "Id",
            "amount": {"path": "Amount", "as": "decimal"},
            # An opportunity sent without StageName maps to no stage (422) rather
            # than to open, which would take back what a won deal credited.
            "stage": {"path": "StageName", "values": CLOSED_STAGES, "otherwise": "open"},
            "closed_on": {"path": path_when("CloseDate", "StageName", CLOSED_STAGES), "as": "date"},
            "expected_close_on": {
                "path": path_when("CloseDate", "StageName", CLOSED_STAGES, holds=False),
                "as": "date",
            },
            "created_on": {"path": "CreatedDate", "as": "date"},
            "updated_at": {"path": "LastModifiedDate || SystemModstamp", "as": "datetime"},
            "owner_id": "OwnerId",
            "currency": {"path": "CurrencyIsoCode", "default": base_currency},
            "customer_id": "AccountId",
        }
    )
