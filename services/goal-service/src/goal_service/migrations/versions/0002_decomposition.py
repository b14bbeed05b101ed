"""decomposition, versions, proposals and plans

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 16:03:59.984924
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('calendar_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('fiscal_year_start_month', sa.Integer(), nullable=False),
    sa.Column('holidays', postgresql.ARRAY(sa.Date()), nullable=False),
    sa.Column('growth_ceiling', sa.Numeric(precision=10, scale=4), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_settings')),
    schema='goal'
    )
    op.create_table('product_line',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('maturity', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_line')),
    schema='goal'
    )
    op.create_table('goal_version',
    sa.Column('goal_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('target', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('previous_target', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('owner_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('changed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('plan_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('fields', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['goal.goal.id'], name=op.f('fk_goal_version_goal_id_goal')),
    sa.PrimaryKeyConstraint('goal_id', 'version', name=op.f('pk_goal_version')),
    schema='goal'
    )
    op.create_table('plan',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('goal_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('request', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('summary', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['goal_id'], ['goal.goal.id'], name=op.f('fk_plan_goal_id_goal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan')),
    schema='goal'
    )
    op.create_index('ix_plan_goal_id_status', 'plan', ['goal_id', 'status'], unique=False, schema='goal')
    op.create_table('proposal',
    sa.Column('goal_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('value', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('submitted_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['goal.goal.id'], name=op.f('fk_proposal_goal_id_goal')),
    sa.PrimaryKeyConstraint('goal_id', 'scope', name=op.f('pk_proposal')),
    schema='goal'
    )
    op.add_column('goal', sa.Column('unit', sa.Numeric(precision=20, scale=4), nullable=False, server_default='1'), schema='goal')
    op.add_column('goal', sa.Column('milestones', postgresql.JSONB(astext_type=sa.Text()), nullable=False, server_default='[]'), schema='goal')
    op.add_column('goal', sa.Column('contributors', postgresql.ARRAY(sa.Text()), nullable=False, server_default='{}'), schema='goal')
    op.add_column('goal', sa.Column('budget', sa.Numeric(precision=20, scale=4), nullable=True), schema='goal')
    op.add_column('goal', sa.Column('headcount', sa.Integer(), nullable=True), schema='goal')
    op.add_column('goal', sa.Column('derived_from_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True), schema='goal')
    op.add_column('goal', sa.Column('plan_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True), schema='goal')
    op.create_index('ix_goal_parent_id', 'goal', ['parent_id'], unique=False, schema='goal')
    op.create_foreign_key(op.f('fk_goal_derived_from_id_goal'), 'goal', 'goal', ['derived_from_id'], ['id'], source_schema='goal', referent_schema='goal')
    op.add_column('person', sa.Column('hired_on', sa.Date(), nullable=True), schema='goal')
    # Goals created before versions were kept get their current state as a version.
    op.execute(
        "INSERT INTO goal.goal_version (goal_id, version, target, status, owner_id, changed_by,"
        " changed_at, reason, fields) SELECT id, version, target, status, owner_id, created_by,"
        " updated_at, 'as found when versions began', '{created}' FROM goal.goal"
    )


def downgrade() -> None:
    op.drop_column('person', 'hired_on', schema='goal')
    op.drop_constraint(op.f('fk_goal_derived_from_id_goal'), 'goal', schema='goal', type_='foreignkey')
    op.drop_index('ix_goal_parent_id', table_name='goal', schema='goal')
    op.drop_column('goal', 'plan_id', schema='goal')
    op.drop_column('goal', 'derived_from_id', schema='goal')
    op.drop_column('goal', 'headcount', schema='goal')
    op.drop_column('goal', 'budget', schema='goal')
    op.drop_column('goal', 'contributors', schema='goal')
    op.drop_column('goal', 'milestones', schema='goal')
    op.drop_column('goal', 'unit', schema='goal')
    op.drop_table('proposal', schema='goal')
    op.drop_index('ix_plan_goal_id_status', table_name='plan', schema='goal')
    op.drop_table('plan', schema='goal')
    op.drop_table('goal_version', schema='goal')
    op.drop_table('product_line', schema='goal')
    op.drop_table('calendar_settings', schema='goal')
