"""The use cases: load through the store, decide through `domain/`, write through
the store, publish. No HTTP and no SQL here."""

from incentive_service.settings import IncentiveSettings
from incentive_service.store import IncentiveStore
from servicekit.app import ServiceRuntime
from servicekit.uow import UnitOfWork

Uow = UnitOfWork[IncentiveStore]
"""The unit of work every use case of this service runs in."""
Runtime = ServiceRuntime[IncentiveSettings, IncentiveStore]
"""What the app runs on, typed by this service's settings and store."""
