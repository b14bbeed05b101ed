from servicekit.migrations import run_migrations
from tracking_service.store import tables

run_migrations(tables.SQLModel.metadata, tables.SCHEMA)
