"""Calculation details: method-specific values of a label (component energies, SCF strategy, cost).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


# Plain ALTER TABLE, not Alembic's batch mode: batch mode rebuilds the table on SQLite,
# which breaks the views that read it. SQLite >= 3.35 adds and drops columns natively.


def upgrade() -> None:
    op.add_column("calculations", sa.Column("details", JSON_TYPE, nullable=True))


def downgrade() -> None:
    op.drop_column("calculations", "details")
