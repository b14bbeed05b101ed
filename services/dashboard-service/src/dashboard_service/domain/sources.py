"""Where a CRM sends its records once an admin has registered it at
tracking-service: the endpoints per source kind (README, "Getting CRM data in")."""

from dataclasses import dataclass
from urllib.parse import quote

GENERIC_KINDS = ("deals", "opportunities", "payments", "leads", "activities")


@dataclass(frozen=True)
class Endpoint:
    records: str  # what is sent there: a record kind, or the CRM's own name
    url: str


def webhook_endpoints(base_url: str, source_id: str, kind: str, secret: str) -> list[Endpoint]:
    """Generic sources sign each record (Standard Webhooks) at one URL per kind;
    HubSpot signs its own payloads at one URL; Salesforce Outbound Messages carry
    no signature, so their URL holds the source's token."""
    root = f"{base_url.rstrip('/')}/webhooks/{quote(source_id, safe='')}"
    if kind == "hubspot":
        return [Endpoint("hubspot", f"{root}/hubspot")]
    if kind == "salesforce":
        return [Endpoint("salesforce", f"{root}/salesforce?token={quote(secret, safe='')}")]
    return [Endpoint(records, f"{root}/{records}") for records in GENERIC_KINDS]
