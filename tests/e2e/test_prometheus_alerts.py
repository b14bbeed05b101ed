"""deploy/prometheus and deploy/grafana against the running services: every metric the rules
and the dashboards name is on some service's /metrics, and a real Prometheus (Debian's)
scraping the five services with the rules loaded fires AttainDeadLettered when an
undecodable record reaches a consumer."""

import asyncio
import re
import time
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from conftest import Stack
from observability import (
    BUILT_IN,
    alerts,
    dashboards,
    exported_names,
    metric_names,
    panel_queries,
    recorded,
    rule_groups,
    running_prometheus,
)

from attain_contracts import topics
from servicekit.auth import Role, mint_token
from servicekit.settings import DEVELOPMENT_SECRET

pytestmark = pytest.mark.e2e

ADMIN = {
    "Authorization": "Bearer "
    + mint_token(DEVELOPMENT_SECRET, subject="e2e", roles=[Role.ADMIN], person_id="admin")
}
FIRING_WITHIN_SECONDS = 60


def named_by_rules_and_dashboards() -> set[str]:
    queries = [rule["expr"] for group in rule_groups() for rule in group["rules"]]
    variables = []
    for board in dashboards().values():
        queries += panel_queries(board)
        variables += [v["definition"] for v in board.get("templating", {}).get("list", [])]
    names = {name for expr in queries for name in metric_names(expr)}
    names |= {name for v in variables for name in re.findall(r"label_values\(\s*([\w:]+)", v)}
    return names - recorded() - BUILT_IN


async def test_every_metric_the_rules_and_dashboards_name_is_exported(stack: Stack) -> None:
    exported: set[str] = set()
    async with httpx.AsyncClient(headers=ADMIN, timeout=10) as http:
        for url in stack.urls.values():
            # Some traffic first, so the labelled HTTP series have samples too.
            await http.get(f"{url}/healthz")
            await http.get(f"{url}/no-such-page")
            metrics = await http.get(f"{url}/metrics")
            assert metrics.status_code == 200, url
            exported |= exported_names(metrics.text)
    assert "attain_http_requests_total" in exported
    assert named_by_rules_and_dashboards() - exported == set()


async def test_an_undecodable_record_fires_the_dead_letter_alert(stack: Stack) -> None:
    assert "AttainDeadLettered" in {alert["alert"] for alert in alerts()}
    with running_prometheus(stack.urls, "dead-letter-alert") as prometheus:
        async with httpx.AsyncClient(base_url=prometheus, timeout=5) as api:
            await until(lambda: targets_up(api, len(stack.urls)), "every service scraped")
            # goal-service's consumer starts the series at 0: the first dead letter is an increase.
            await until(lambda: dead_letters(api), "goal-service's dead-letter series at 0")
            assert await dead_letter_alerts(api) == []
            await produce_undecodable(stack.kafka_bootstrap)
            firing = await until(
                lambda: dead_letter_alerts(api, state="firing"),
                "AttainDeadLettered firing",
                seconds=FIRING_WITHIN_SECONDS,
            )
    assert firing[0]["labels"]["severity"] == "warning"
    assert firing[0]["annotations"]["runbook_url"].endswith("#attaindeadlettered")


async def produce_undecodable(bootstrap: str) -> None:
    """Onto the topic goal-service consumes (DeviationDetected): not a CloudEvents envelope."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topics.ALERTS, b"not an event", key=b"e2e-poison")
    finally:
        await producer.stop()


async def targets_up(api: httpx.AsyncClient, count: int) -> bool:
    found = await query(api, "up")
    return len(found) == count and all(sample["value"][1] == "1" for sample in found)


async def dead_letters(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    return await query(
        api,
        'attain_events_dead_lettered_total{service="goal-service", group="goal-service",'
        ' type="undecodable"} == 0',
    )


async def dead_letter_alerts(api: httpx.AsyncClient, state: str | None = None) -> list[Any]:
    answer = (await api.get("/api/v1/alerts")).json()["data"]["alerts"]
    return [
        alert
        for alert in answer
        if alert["labels"]["alertname"] == "AttainDeadLettered"
        and alert["labels"].get("service") == "goal-service"
        and alert["labels"].get("type") == "undecodable"
        and (state is None or alert["state"] == state)
    ]


async def query(api: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
    answer = await api.get("/api/v1/query", params={"query": expr})
    answer.raise_for_status()
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


async def until(check: Any, what: str, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(
        f"not within {seconds} s: {what} (Prometheus's log: .artifacts/prometheus/)"
    )
