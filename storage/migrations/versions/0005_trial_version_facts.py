"""facts stored with each trial version

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Left empty here: the poller derives the facts of every current version on its next run
    # (they need the extractor's rules, which a frozen migration must not import).
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    with op.batch_alter_table("trial_version") as batch:
        batch.add_column(sa.Column("facts", json_type, nullable=True))
        batch.add_column(sa.Column("facts_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trial_version") as batch:
        batch.drop_column("facts_version")
        batch.drop_column("facts")
