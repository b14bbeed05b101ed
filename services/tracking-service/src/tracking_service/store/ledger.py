"""The ledger: append-only signed deltas, what it holds net per record, and the
queue of rows the projector has not folded yet."""

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import ColumnElement, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from servicekit.wakeup import notify
from tracking_service.domain.ledger import CreditKey, LedgerKey
from tracking_service.store.chunks import ROWS_A_PAGE, chunks
from tracking_service.store.tables import LedgerEntry, ProjectionQueue

RecordKey = tuple[str, str, str]
LEDGER_CHANNEL = "tracking_ledger"

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

    async def append(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ledger rows and queue them for the projector, which is woken on commit."""
        if not entries:
            return
        await notify(self.session, LEDGER_CHANNEL)
        # One statement compiled once and sent a page of rows at a time: a VALUES list of
        # thousands of rows was compiled anew for every batch, a third of its time.
        values = [entry.model_dump(exclude={"seq"}) for entry in entries]
        for page in chunks(values, ROWS_A_PAGE):
            result = await self.session.execute(
                insert(LedgerEntry).returning(col(LedgerEntry.seq)), list(page)
            )
            seqs = [{"entry_seq": seq} for (seq,) in result.all()]
            await self.session.execute(insert(ProjectionQueue), seqs)
