"""quota carrier: our copy of whether a person carries a quota

Revision ID: 0004_quota
Revises: 0003_clawback
Create Date: 2026-12-02 04:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_quota'
down_revision: str | None = '0003_clawback'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'person', sa.Column('carries_quota', sa.Boolean(), nullable=True), schema='incentive'
    )


def downgrade() -> None:
    op.drop_column('person', 'carries_quota', schema='incentive')
