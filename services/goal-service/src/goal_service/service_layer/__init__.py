"""goal-service's use cases. Each is given the unit of work on the service's store
(`Unit`), loads through `uow.store`, decides through `domain/`, writes through the
store and publishes; the caller (a route or a handler) commits."""

from goal_service.store import GoalStore
from servicekit.uow import UnitOfWork

Unit = UnitOfWork[GoalStore]
"""The unit of work a use case is given."""

__all__ = ["GoalStore", "Unit"]
