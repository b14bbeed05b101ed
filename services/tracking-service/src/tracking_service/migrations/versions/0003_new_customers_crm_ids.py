"""webhook deliveries by message id, deals by customer (new_customers), people by
their CRM owner ids and e-mail (crm_ids)

Revision ID: 0003_new_customers_crm_ids
Revises: 0002
Create Date: 2026-12-02 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003_new_customers_crm_ids'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_delivery',
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('webhook_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source_id', 'webhook_id', name=op.f('pk_webhook_delivery')),
    schema='tracking'
    )
    op.create_table('person_alias',
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('alias', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('source_id', 'alias', name=op.f('pk_person_alias')),
    schema='tracking'
    )
    op.create_index(op.f('ix_tracking_person_alias_person_id'), 'person_alias', ['person_id'], unique=False, schema='tracking')
    op.create_index('ix_crm_record_customer', 'crm_record', ['source_id', 'customer_id'], unique=False, schema='tracking', postgresql_where=sa.text("kind = 'deal' AND customer_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index('ix_crm_record_customer', table_name='crm_record', schema='tracking', postgresql_where=sa.text("kind = 'deal' AND customer_id IS NOT NULL"))
    op.drop_index(op.f('ix_tracking_person_alias_person_id'), table_name='person_alias', schema='tracking')
    op.drop_table('person_alias', schema='tracking')
    op.drop_table('webhook_delivery', schema='tracking')
