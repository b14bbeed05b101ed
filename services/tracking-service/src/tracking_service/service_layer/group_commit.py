"""Webhooks that arrive while a transaction is in flight are applied together in the
next one (group commit). A CRM sends deals one request at a time, many at once; each
request is answered only after the transaction holding its records has committed, so
"answered only when durable" holds, and the commit is shared instead of paid per
request. Batches of one source follow one another; the records of a batch are applied
as `ingest.record` applies any batch (versions of one record in version order)."""

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from servicekit.metrics import WEBHOOKS_PER_COMMIT
from tracking_service.service_layer import ingest
from tracking_service.service_layer.ingest import Outcome
from tracking_service.service_layer.records import RecordIn
from tracking_service.service_layer.unit import Runtime

log = structlog.get_logger()
MAX_RECORDS = 500  # per transaction: a few milliseconds of statements


@dataclass
class _Delivery:
    records: list[RecordIn]
    webhook_id: str | None  # Standard Webhooks' message id, kept with the records
    answer: asyncio.Future[list[Outcome]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def settle(self, outcomes: list[Outcome] | BaseException) -> None:
        if self.answer.done():  # the caller went away
            return
        if isinstance(outcomes, BaseException):
            self.answer.set_exception(outcomes)
        else:
            self.answer.set_result(outcomes)


class Apply(Protocol):
    def __call__(
        self,
        runtime: Runtime,
        source_id: str,
        records: list[RecordIn],
        *,
        webhook_ids: Mapping[int, str] | None = None,
    ) -> Awaitable[list[Outcome]]: ...


class GroupCommit:
    def __init__(self, runtime: Runtime, apply: Apply = ingest.apply) -> None:
        self._runtime = runtime
        self._apply = apply
        self._waiting: defaultdict[str, list[_Delivery]] = defaultdict(list)
        self._draining: dict[str, asyncio.Task[None]] = {}

    async def apply(
        self, source_id: str, records: list[RecordIn], webhook_id: str | None = None
    ) -> list[Outcome]:
        """The outcomes of `records`, once they are committed with whatever else came in;
        `webhook_id` is committed with them (a message already committed is a duplicate)."""
        delivery = _Delivery(records, webhook_id)
        self._waiting[source_id].append(delivery)
        if source_id not in self._draining:
            self._draining[source_id] = asyncio.create_task(self._drain(source_id))
        # Shielded: a caller that disconnects does not cancel the batch it is part of.
        return await asyncio.shield(delivery.answer)

    async def _drain(self, source_id: str) -> None:
        waiting = self._waiting[source_id]
        batch: list[_Delivery] = []
        try:
            while waiting:
                batch, count = [], 0
                while waiting and (not batch or count + len(waiting[0].records) <= MAX_RECORDS):
                    count += len(waiting[0].records)
                    batch.append(waiting.pop(0))
                await self._commit(source_id, batch)
        except BaseException as error:  # cancelled at shutdown: no request waits for ever
            for delivery in [*batch, *waiting]:
                delivery.settle(error)
            waiting.clear()
            raise
        finally:
            del self._draining[source_id]

    async def _commit(self, source_id: str, batch: list[_Delivery]) -> None:
        WEBHOOKS_PER_COMMIT.labels(self._runtime.settings.service_name).observe(len(batch))
        records: list[RecordIn] = []
        webhook_ids: dict[int, str] = {}
        for delivery in batch:
            if delivery.webhook_id is not None:
                webhook_ids[len(records)] = delivery.webhook_id
            records.extend(delivery.records)
        try:
            outcomes = await self._apply(self._runtime, source_id, records, webhook_ids=webhook_ids)
        except Exception as error:
            if len(batch) == 1:
                batch[0].settle(error)
                return
            # One request's failure is its own: the others are applied one by one.
            log.warning("tracking.group_commit.split", size=len(batch), error=repr(error))
            for delivery in batch:
                await self._commit(source_id, [delivery])
            return
        start = 0
        for delivery in batch:
            delivery.settle(outcomes[start : start + len(delivery.records)])
            start += len(delivery.records)


def group_commit(runtime: Runtime) -> GroupCommit:
    """The replica's one group commit."""
    return runtime.shared(GroupCommit, GroupCommit)
