"""The generic CRM webhook, signed per the Standard Webhooks spec. It answers
only after the deal and its ledger rows are committed."""

import binascii
import json

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from servicekit.app import RuntimeDep, UnitOfWorkDep
from servicekit.problems import InvalidInput, Unauthorized
from tracking_service.ingest import DealIn, record_deal
from tracking_service.store import queries

router = APIRouter(tags=["webhooks"])


class DealAccepted(BaseModel):
    deal_id: str
    version: int
    duplicate: bool
    stale: bool
    ledger_entries: list[str]


@router.post(
    "/webhooks/{source_id}/deals",
    response_model=DealAccepted,
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": DealIn.model_json_schema()}}}
    },
)
async def receive_deal(
    source_id: str, request: Request, uow: UnitOfWorkDep, runtime: RuntimeDep
) -> DealAccepted:
    body = await request.body()
    source = await queries.source(uow.session, source_id)
    # An unknown source gets the same answer as a bad signature: nothing to probe.
    if source is None or not _signed_by(source.secret, body, dict(request.headers)):
        raise Unauthorized("the webhook signature does not verify")
    deal = _parse(body)
    recorded = await record_deal(uow, source_id, deal, runtime.settings.base_currency)
    await uow.commit()
    return DealAccepted(
        deal_id=recorded.deal_id,
        version=recorded.version,
        duplicate=recorded.duplicate,
        stale=recorded.stale,
        ledger_entries=[e.entry_id for e in recorded.entries],
    )


def _signed_by(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError, binascii.Error):
        return False
    return True


def _parse(body: bytes) -> DealIn:
    try:
        return DealIn.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise InvalidInput(
            f"{field}: {first['msg']}" if field else first["msg"],
            field=field,
            errors=[
                {"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"], "code": e["type"]}
                for e in error.errors()
            ],
        ) from error
    except json.JSONDecodeError as error:
        raise InvalidInput(f"the body is not JSON: {error}") from error
