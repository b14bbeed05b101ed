"""The stored rows the use cases answer with whose type `api/` names (it does
not import `store/`): the API maps them to its response models."""

from incentive_service.store.tables import Statement

__all__ = ["Statement"]
