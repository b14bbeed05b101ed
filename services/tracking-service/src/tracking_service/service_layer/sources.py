"""CRM sources: creating and changing one (its secret generated when not given)."""

import base64
import secrets
import time
from dataclasses import dataclass
from typing import Any

from servicekit.errors import Missing
from tracking_service.service_layer.unit import Runtime, Unit
from tracking_service.store import TrackingStore
from tracking_service.store.tables import Source


@dataclass(frozen=True)
class SourceTerms:
    name: str
    kind: str
    secret: str | None
    organization_id: str | None
    mapping: dict[str, Any] | None


def new_secret(kind: str) -> str:
    raw = secrets.token_bytes(32)
    if kind == "generic":
        return "whsec_" + base64.b64encode(raw).decode()
    return secrets.token_urlsafe(32)


async def put_source(uow: Unit, source_id: str, terms: SourceTerms) -> Source:
    """A new secret when one is given or the kind changes."""
    source = await uow.store.sources.get(source_id)
    if source is None:
        source = Source(
            id=source_id,
            name=terms.name,
            kind=terms.kind,
            secret=terms.secret or new_secret(terms.kind),
            organization_id=terms.organization_id,
            mapping=terms.mapping,
            created_at=uow.clock.now(),
        )
        uow.store.sources.add(source)
    else:
        if terms.secret or source.kind != terms.kind:
            source.secret = terms.secret or new_secret(terms.kind)
        source.name, source.kind = terms.name, terms.kind
        source.organization_id, source.mapping = terms.organization_id, terms.mapping
    return source


async def sources(store: TrackingStore) -> list[Source]:
    return await store.sources.all()


async def source(store: TrackingStore, source_id: str) -> Source:
    found = await store.sources.get(source_id)
    if found is None:
        raise Missing(f"no source {source_id}")
    return found


async def find_source(runtime: Runtime, source_id: str) -> Source | None:
    """The source as this replica last read it (`KnownSources`)."""
    return await runtime.shared(KnownSources, KnownSources).get(source_id)


def forget_source(runtime: Runtime, source_id: str) -> None:
    """After a change to the source is committed: the next webhook reads it again."""
    runtime.shared(KnownSources, KnownSources).forget(source_id)


class KnownSources:
    """Sources as last read, for `source_cache_seconds`: a CRM sends many webhooks a second,
    and reading its source for each was a tenth of the replica's time. The replica that
    changes a source forgets it at once; other replicas take the change within that time (a
    CRM retries a webhook refused meanwhile). A source not found is not kept, so no one can
    fill the memory with names that do not exist."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._read: dict[str, tuple[float, Source]] = {}

    async def get(self, source_id: str) -> Source | None:
        read = self._read.get(source_id)
        if (
            read is not None
            and time.monotonic() - read[0] < self._runtime.settings.source_cache_seconds
        ):
            return read[1]
        started = time.monotonic()
        async with self._runtime.unit_of_work() as uow:  # short: records go in another
            source = await uow.store.sources.detached(source_id)
        if source is not None:
            self._read[source_id] = (started, source)
        return source

    def forget(self, source_id: str) -> None:
        self._read.pop(source_id, None)
