"""quota carrier: whether a person carries a quota (none: the default rule)

Revision ID: 0003_quota
Revises: 0002
Create Date: 2026-12-02 04:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_quota'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('person', sa.Column('carries_quota', sa.Boolean(), nullable=True), schema='goal')


def downgrade() -> None:
    op.drop_column('person', 'carries_quota', schema='goal')
