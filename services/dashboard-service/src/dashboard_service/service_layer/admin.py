"""The admin's views: CRM sources and where they send (tracking-service), the
records parked for want of an FX rate and the rates, incentive plans, and a
period's payout run, close and payroll file (incentive-service). Every call
carries the admin's own token; the APIs decide that only admins get these."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from dashboard_service.clients import Attain
from dashboard_service.domain.forms import Fault, FormError, decimal_of, json_of, jsonable
from dashboard_service.domain.sources import Endpoint, webhook_endpoints

FX_WINDOW = timedelta(days=90)  # the rates listed when no range is asked for


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    kind: str
    secret: str
    organization_id: str | None
    endpoints: list[Endpoint]


@dataclass(frozen=True)
class ParkedRecord:
    source_id: str
    kind: str
    record_id: str
    owner_id: str
    amount: Decimal | None
    currency: str | None
    reason: str
    waiting_for_currency: str | None
    waiting_for_on: date | None


@dataclass(frozen=True)
class Parked:
    count: int
    records: list[ParkedRecord]


@dataclass(frozen=True)
class Rate:
    currency: str
    on: date
    rate: Decimal


@dataclass(frozen=True)
class FxView:
    currency: str
    start: date
    end: date
    rates: list[Rate]


def source_of(body: dict[str, Any], webhook_base_url: str) -> Source:
    return Source(
        id=body["id"],
        name=body["name"],
        kind=body["kind"],
        secret=body["secret"],
        organization_id=body.get("organization_id"),
        endpoints=webhook_endpoints(webhook_base_url, body["id"], body["kind"], body["secret"]),
    )


async def sources(attain: Attain, webhook_base_url: str) -> list[Source]:
    return [source_of(s, webhook_base_url) for s in await attain.tracking.every("/sources")]


async def source(attain: Attain, source_id: str, webhook_base_url: str) -> Source:
    return source_of(await attain.tracking.get(f"/sources/{source_id}"), webhook_base_url)


async def register_source(
    attain: Attain,
    webhook_base_url: str,
    *,
    source_id: str,
    name: str,
    kind: str,
    secret: str,
    organization_id: str,
) -> Source:
    """PUT /sources/{id}: a new source gets its secret (generic, Salesforce) from
    tracking-service; an empty field is left out, so tracking-service decides."""
    if not source_id.strip():
        raise FormError("id", Fault.REQUIRED)
    body: dict[str, Any] = {"name": name.strip(), "kind": kind}
    if secret.strip():
        body["secret"] = secret.strip()
    if organization_id.strip():
        body["organization_id"] = organization_id.strip()
    saved = await attain.tracking.put(f"/sources/{source_id.strip()}", json=body)
    return source_of(saved, webhook_base_url)


async def parked(attain: Attain) -> Parked:
    answer = await attain.tracking.get("/admin/parked")
    return Parked(
        count=answer["count"],
        records=[
            ParkedRecord(
                source_id=r["source_id"],
                kind=r["kind"],
                record_id=r["record_id"],
                owner_id=r["owner_id"],
                amount=Decimal(str(r["amount"])) if r["amount"] is not None else None,
                currency=r["currency"],
                reason=r["reason"],
                waiting_for_currency=r["waiting_for_currency"],
                waiting_for_on=(
                    date.fromisoformat(r["waiting_for_on"]) if r["waiting_for_on"] else None
                ),
            )
            for r in answer["data"]
        ],
    )


async def fx_rates(
    attain: Attain, currency: str, start: date | None, end: date | None, today: date
) -> FxView:
    end = end or today
    start = start or end - FX_WINDOW
    rates = await attain.tracking.every(
        "/fx-rates", currency=currency, start=start.isoformat(), end=end.isoformat()
    )
    return FxView(
        currency,
        start,
        end,
        [Rate(r["currency"], date.fromisoformat(r["on"]), Decimal(str(r["rate"]))) for r in rates],
    )


async def add_rate(attain: Attain, *, currency: str, on: str, rate: str) -> dict[str, Any]:
    """PUT /fx-rates with one rate; the answer says how many parked records it credited."""
    value = decimal_of(rate, "rate")
    if value is None:
        raise FormError("rate", Fault.REQUIRED)
    if not on.strip():
        raise FormError("on", Fault.REQUIRED)
    body = {"rates": [{"currency": currency.strip().upper(), "on": on.strip(), "rate": str(value)}]}
    stored: dict[str, Any] = await attain.tracking.put("/fx-rates", json=body)
    return stored


async def plans(attain: Attain) -> list[dict[str, Any]]:
    return await attain.incentives.every("/plans")


async def plan(attain: Attain, plan_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await attain.incentives.get(f"/plans/{plan_id}")
    return found


async def save_plan(
    attain: Attain, *, plan_id: str, plan_json: str, effective_from: str, terms_json: str
) -> dict[str, Any]:
    """The plan (`PUT /plans/{id}`) and, when terms are given, a version from a
    period's first day (`PUT /plans/{id}/versions/{day}`), both as typed in the
    JSON editors; incentive-service judges them and names the field it refuses."""
    if not plan_id.strip():
        raise FormError("plan_id", Fault.REQUIRED)
    plan_body = json_of(plan_json, "plan_json", kind=dict)
    saved: dict[str, Any] = await attain.incentives.put(
        f"/plans/{plan_id.strip()}", json=jsonable(plan_body)
    )
    if terms_json.strip():
        terms = json_of(terms_json, "terms_json", kind=dict)
        if not effective_from.strip():
            raise FormError("effective_from", Fault.REQUIRED)
        saved = await attain.incentives.put(
            f"/plans/{plan_id.strip()}/versions/{effective_from.strip()}", json=jsonable(terms)
        )
    return saved


async def payout_run(attain: Attain, period_key: str) -> dict[str, Any]:
    run: dict[str, Any] = await attain.incentives.post(f"/periods/{period_key}/payout-run")
    return run


async def close_period(attain: Attain, period_key: str, *, force: bool = False) -> dict[str, Any]:
    """incentive-service refuses a period that has not ended unless `force`d."""
    query = "?force=true" if force else ""
    closed: dict[str, Any] = await attain.incentives.post(f"/periods/{period_key}/close{query}")
    return closed


async def statements_csv(attain: Attain, period_key: str) -> httpx.Response:
    """The payroll file as incentive-service streams it, with the admin's token;
    opened before the page answers, so a refusal is a page and not half a file.
    The caller closes it."""
    return await attain.incentives.open_stream(f"/periods/{period_key}/statements.csv")
