"""a person's owner id per CRM source

Revision ID: 0005_person_crm_ids
Revises: 0004_planning
Create Date: 2026-12-02 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_person_crm_ids"
down_revision: str | None = "0004_planning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('person', sa.Column('crm_ids', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False), schema='goal')


def downgrade() -> None:
    op.drop_column('person', 'crm_ids', schema='goal')
