"""the copy of the organisation's calendar

Revision ID: 0004_calendar
Revises: 0003_new_customers_crm_ids
Create Date: 2026-12-02 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_calendar"
down_revision: str | None = "0003_new_customers_crm_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'calendar',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('timezone', sa.String(), nullable=False),
        sa.Column('fiscal_year_start_month', sa.Integer(), nullable=False),
        sa.Column('holidays', postgresql.ARRAY(sa.Date()), nullable=False),
        sa.Column('working_weekends', postgresql.ARRAY(sa.Date()), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar')),
        schema='tracking',
    )


def downgrade() -> None:
    op.drop_table('calendar', schema='tracking')
