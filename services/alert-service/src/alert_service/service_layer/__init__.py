"""alert-service's use cases: they load through the store, decide through
`domain/`, write through the store and publish."""

from alert_service.settings import AlertSettings
from alert_service.store import AlertStore
from servicekit.app import ServiceRuntime
from servicekit.uow import UnitOfWork

AlertUnit = UnitOfWork[AlertStore]
AlertRuntime = ServiceRuntime[AlertSettings, AlertStore]

__all__ = ["AlertRuntime", "AlertStore", "AlertUnit"]
