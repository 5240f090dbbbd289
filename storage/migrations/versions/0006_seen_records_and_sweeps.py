"""seen records and sweeps

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty at first: the next poll of each registry sees fewer records than its search
    # matches and sweeps once, which fills it.
    op.create_table(
        "seen_record",
        sa.Column("registry_name", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("registry_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("first_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("registry_name", "registry_id"),
    )
    with op.batch_alter_table("poll_state") as batch:
        batch.add_column(
            sa.Column("last_sweep_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("poll_state") as batch:
        batch.drop_column("last_sweep_at")
    op.drop_table("seen_record")
