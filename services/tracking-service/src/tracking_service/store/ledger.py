"""The ledger: append-only signed deltas, what it holds net per record, and the
queue of rows the projector has not folded yet."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from servicekit.db import write_rows
from servicekit.wakeup import notify
from tracking_service.domain.ledger import CreditKey, LedgerKey
from tracking_service.store.chunks import chunks
from tracking_service.store.tables import LedgerEntry

# The projector's queue takes the rows just written, found by their ids (one array).
_QUEUE = text(
    """
    INSERT INTO tracking.projection_queue (entry_seq)
    SELECT seq FROM tracking.ledger_entry WHERE id = ANY(CAST(:ids AS uuid[]))
    """
)

RecordKey = tuple[str, str, str]
LEDGER_CHANNEL = "tracking_ledger"


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A ledger row to append: `LedgerEntry`'s columns but `seq`, which the database
    numbers. A plain record, since a batch makes tens of thousands and a table model
    costs seven times as much to build."""

    id: UUID
    source_id: str
    record_kind: str
    record_id: str
    metric: str
    person_id: str
    org_path: list[str]
    product_line: str | None
    credited_on: date
    amount: Decimal
    currency: str | None
    reason: str
    record_version: int
    recorded_at: datetime

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


_HOLDING = (
    col(LedgerEntry.source_id),
    col(LedgerEntry.record_kind),
    col(LedgerEntry.record_id),
    col(LedgerEntry.metric),
    col(LedgerEntry.person_id),
    col(LedgerEntry.credited_on),
    col(LedgerEntry.product_line),
    col(LedgerEntry.org_path),
)


class Ledger:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _net_holdings(
        self, condition: ColumnElement[bool]
    ) -> list[tuple[RecordKey, int, LedgerKey, Decimal]]:
        """(record, latest version credited, where it counts, net amount) of the ledger
        rows meeting `condition`, leaving out what nets to zero."""
        total = func.sum(col(LedgerEntry.amount))
        rows = await self.session.execute(
            select(*_HOLDING, total, func.max(col(LedgerEntry.record_version)))
            .where(condition)
            .group_by(*_HOLDING)
            .having(total != 0)
        )
        return [
            (
                (source, kind, record_id),
                version,
                LedgerKey(CreditKey(metric, person, on, line), tuple(path)),
                Decimal(amount),
            )
            for source, kind, record_id, metric, person, on, line, path, amount, version in rows
        ]

    async def held(
        self, keys: Sequence[RecordKey]
    ) -> defaultdict[RecordKey, dict[LedgerKey, Decimal]]:
        """What the ledger holds for each record, net, by where it counts."""
        holdings: defaultdict[RecordKey, dict[LedgerKey, Decimal]] = defaultdict(dict)
        record = tuple_(*_HOLDING[:3])
        for chunk in chunks(sorted(keys)):
            for record_key, _, key, amount in await self._net_holdings(record.in_(chunk)):
                holdings[record_key][key] = amount
        return holdings

    async def held_by_person(
        self, person_ids: Sequence[str]
    ) -> dict[tuple[RecordKey, int], dict[LedgerKey, Decimal]]:
        """What the ledger holds, by record and its latest version credited, of every
        record crediting these people."""
        holdings: dict[tuple[RecordKey, int], dict[LedgerKey, Decimal]] = defaultdict(dict)
        condition = col(LedgerEntry.person_id).in_(person_ids)
        for record_key, version, key, amount in await self._net_holdings(condition):
            holdings[(record_key, version)][key] = amount
        return holdings

    async def append(self, entries: Sequence[NewEntry]) -> None:
        """Append ledger rows and queue them for the projector, which is woken on commit."""
        if not entries:
            return
        await notify(self.session, LEDGER_CHANNEL)
        # COPY for a batch's rows (an INSERT of them was a third of the batch API's time).
        await write_rows(self.session, LedgerEntry.__table__, [e.row() for e in entries])  # type: ignore[attr-defined]
        await self.session.execute(_QUEUE, {"ids": [str(e.id) for e in entries]})
