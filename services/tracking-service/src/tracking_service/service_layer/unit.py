"""The unit of work and the runtime that tracking-service's use cases work on, and
the stored rows they answer with (api/ names them from here, not from store/)."""

from servicekit.app import ServiceRuntime
from servicekit.uow import UnitOfWork
from tracking_service.settings import TrackingSettings
from tracking_service.store import TrackingStore
from tracking_service.store.tables import CrmRecord, Goal, LedgerEntry, RecordVersion, Source

Unit = UnitOfWork[TrackingStore]
Runtime = ServiceRuntime[TrackingSettings, TrackingStore]

__all__ = [
    "CrmRecord",
    "Goal",
    "LedgerEntry",
    "RecordVersion",
    "Runtime",
    "Source",
    "TrackingStore",
    "Unit",
]
