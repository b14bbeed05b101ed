"""planning: the stretch a split applied, kept on the goals it made

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("goal", sa.Column("split_stretch", sa.Numeric(), nullable=True), schema="goal")


def downgrade() -> None:
    op.drop_column("goal", "split_stretch", schema="goal")
