"""the calendar's weekend days worked in exchange for a holiday

Revision ID: 0006_calendar
Revises: 0005_person_crm_ids
Create Date: 2026-12-02 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_calendar"
down_revision: str | None = "0005_person_crm_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'calendar_settings',
        sa.Column(
            'working_weekends', postgresql.ARRAY(sa.Date()), server_default='{}', nullable=False
        ),
        schema='goal',
    )


def downgrade() -> None:
    op.drop_column('calendar_settings', 'working_weekends', schema='goal')
