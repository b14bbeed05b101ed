from incentive_service.store import tables
from servicekit.migrations import run_migrations

run_migrations(tables.SQLModel.metadata, tables.SCHEMA)
