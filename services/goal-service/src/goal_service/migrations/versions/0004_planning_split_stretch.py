"""planning: the stretch a split applied, kept on the goals it made

Revision ID: 0004_planning
Revises: 0003_quota
Create Date: 2026-12-02 04:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_planning"
down_revision: str | None = "0003_quota"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("goal", sa.Column("split_stretch", sa.Numeric(), nullable=True), schema="goal")


def downgrade() -> None:
    op.drop_column("goal", "split_stretch", schema="goal")
