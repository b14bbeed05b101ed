"""Group commit: webhooks that arrive while a transaction is in flight share the next one,
each answered with its own outcomes; one delivery's failure is its own."""

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from tracking_service.service_layer import group_commit
from tracking_service.service_layer.group_commit import GroupCommit

pytestmark = pytest.mark.unit

RUNTIME: Any = SimpleNamespace(settings=SimpleNamespace(service_name="tracking-test"))


class Transactions:
    """Stands in for ingest.apply: records each batch it is given, holds the first open
    until released, and fails any batch holding a record named "bad"."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[str]]] = []
        self.release = asyncio.Event()

    async def apply(self, runtime: Any, source_id: str, records: list[Any], **_: Any) -> list[Any]:
        self.batches.append((source_id, list(records)))
        if len(self.batches) == 1:
            await self.release.wait()
        if "bad" in records:
            raise ValueError("bad record")
        return [f"{source_id}:{record}" for record in records]


async def test_deliveries_waiting_on_a_transaction_share_the_next_one() -> None:
    transactions = Transactions()
    commit = GroupCommit(RUNTIME, transactions.apply)
    first = asyncio.create_task(commit.apply("crm", ["a"]))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(commit.apply("crm", [f"r{i}", f"s{i}"])) for i in range(20)]
    await asyncio.sleep(0)
    transactions.release.set()

    assert await first == ["crm:a"]
    for i, task in enumerate(rest):
        assert await task == [f"crm:r{i}", f"crm:s{i}"]
    assert [len(records) for _, records in transactions.batches] == [1, 40]


async def test_one_failing_delivery_fails_alone() -> None:
    transactions = Transactions()
    transactions.release.set()
    blocker = asyncio.Event()

    async def slow(runtime: Any, source_id: str, records: list[Any], **_: Any) -> list[Any]:
        if records == ["first"]:
            await blocker.wait()
        return await transactions.apply(runtime, source_id, records)

    commit = GroupCommit(RUNTIME, slow)
    first = asyncio.create_task(commit.apply("crm", ["first"]))
    await asyncio.sleep(0)
    good = asyncio.create_task(commit.apply("crm", ["good"]))
    bad = asyncio.create_task(commit.apply("crm", ["bad"]))
    other = asyncio.create_task(commit.apply("crm", ["other"]))
    await asyncio.sleep(0)
    blocker.set()

    assert await first == ["crm:first"]
    assert await good == ["crm:good"]
    assert await other == ["crm:other"]
    with pytest.raises(ValueError, match="bad record"):
        await bad
    together = ["good", "bad", "other"]
    assert [records for _, records in transactions.batches[1:]] == [
        together,
        *[[r] for r in together],
    ]


async def test_a_caller_that_goes_away_leaves_its_batch_applied() -> None:
    transactions = Transactions()
    commit = GroupCommit(RUNTIME, transactions.apply)
    first = asyncio.create_task(commit.apply("crm", ["a"]))
    await asyncio.sleep(0)
    gone = asyncio.create_task(commit.apply("crm", ["b"]))
    stays = asyncio.create_task(commit.apply("crm", ["c"]))
    await asyncio.sleep(0)
    gone.cancel()
    transactions.release.set()

    assert await first == ["crm:a"]
    assert await stays == ["crm:c"]
    assert transactions.batches[1] == ("crm", ["b", "c"])


async def test_sources_commit_apart_and_a_batch_holds_at_most_max_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(group_commit, "MAX_RECORDS", 3)
    transactions = Transactions()
    commit = GroupCommit(RUNTIME, transactions.apply)
    first = asyncio.create_task(commit.apply("crm", ["a"]))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(commit.apply("crm", [f"w{i}", f"x{i}"])) for i in range(3)]
    elsewhere = asyncio.create_task(commit.apply("erp", ["e"]))
    await asyncio.sleep(0)
    assert await elsewhere == ["erp:e"]  # not behind crm's open transaction
    transactions.release.set()
    await asyncio.gather(first, *waiting)

    crm = [len(records) for source, records in transactions.batches if source == "crm"]
    assert crm == [1, 2, 2, 2]
