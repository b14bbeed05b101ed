"""clawback deals: the deals behind an adjustment, and corrections after the window

Revision ID: 0003_clawback
Revises: 0002
Create Date: 2026-12-02 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003_clawback'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'adjustment',
        sa.Column('kind', sa.Text(), server_default='restated', nullable=False),
        schema='incentive',
    )
    op.add_column(
        'adjustment',
        sa.Column(
            'deals',
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        schema='incentive',
    )
    op.add_column(
        'adjustment',
        sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
        schema='incentive',
    )


def downgrade() -> None:
    op.drop_column('adjustment', 'window_end', schema='incentive')
    op.drop_column('adjustment', 'deals', schema='incentive')
    op.drop_column('adjustment', 'kind', schema='incentive')
