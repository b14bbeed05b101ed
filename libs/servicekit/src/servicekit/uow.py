"""The unit of work: one transaction, and the events the change causes written
to the outbox inside it. Leaving the block without `commit()` rolls back.

Use cases reach the database only through `uow.store`: the service's store,
built on the unit's session (`uow.store.goals.page(...)`). The session itself is
for `store/` and servicekit."""

from collections.abc import Callable
from types import TracebackType
from typing import Generic, Self, TypeVar
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attain_contracts import Envelope, Event
from servicekit.clock import Clock
from servicekit.db import MessagingTables, write_rows
from servicekit.logs import current_correlation_id
from servicekit.wakeup import notify

StoreT = TypeVar("StoreT")

StoreFactory = Callable[[AsyncSession], StoreT]
"""Builds a service's store on a unit's session: `GoalStore(session)`."""


class UnitOfWork(Generic[StoreT]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        *,
        source: str,
        clock: Clock,
        store: "StoreFactory[StoreT] | None" = None,
    ) -> None:
        self._sessions = sessions
        self._store_factory = store
        self._store: StoreT | None = None
        self._tables = tables
        self._source = source
        self.clock = clock
        # Outbox rows in the order the events were published.
        self._pending: list[dict[str, object]] = []
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is used outside its `async with` block")
        return self._session

    @property
    def store(self) -> StoreT:
        if self._store is None:
            if self._store_factory is None:
                raise RuntimeError("this unit of work was made without a store")
            self._store = self._store_factory(self.session)
        return self._store

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session, self._store = self.session, None, None
        self._pending.clear()
        await session.rollback()
        await session.close()

    def publish(self, event: Event) -> Envelope:
        """Queue an event; it is written to the outbox when the unit commits."""
        envelope = Envelope.wrap(
            event,
            source=self._source,
            time=self.clock.now(),
            correlation_id=current_correlation_id(),
        )
        self._pending.append(outbox_row(event, envelope))
        return envelope

    def publish_json(self, event_type: type[Event], key: str, data: dict[str, object]) -> None:
        """Queue an event whose JSON `data` the caller built without the model:
        for writers of very many events at once. The caller answers for `data`
        being what the model would dump, and tests it."""
        event_id = uuid4()
        envelope = {
            "specversion": "1.0",
            "id": str(event_id),
            "source": self._source,
            "type": event_type.type,
            "time": self.clock.now().isoformat(),
            "subject": key,
            "datacontenttype": "application/json",
            "correlationid": current_correlation_id(),
            "data": data,
        }
        self._pending.append(
            {
                "id": event_id,
                "aggregatetype": event_type.aggregate_type,
                "aggregateid": key,
                "type": event_type.type,
                "topic": event_type.topic,
                "payload": envelope,
            }
        )

    async def commit(self) -> None:
        if self._pending:
            await write_rows(self.session, self._tables.outbox, self._pending)
            # Delivered by PostgreSQL only when the transaction commits.
            await notify(self.session, self._tables.notify_channel)
        await self.session.commit()
        self._pending.clear()


def outbox_row(event: Event, envelope: Envelope) -> dict[str, object]:
    return {
        "id": envelope.id,
        "aggregatetype": event.aggregate_type,
        "aggregateid": event.key(),
        "type": envelope.type,
        "topic": event.topic,
        "payload": envelope.model_dump(mode="json"),
    }
