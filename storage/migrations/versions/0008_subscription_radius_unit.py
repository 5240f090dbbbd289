"""subscription radius unit

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing subscription was made in km; the unit only says how to show it back.
    with op.batch_alter_table("subscription") as batch:
        batch.add_column(
            sa.Column(
                "radius_unit",
                sqlmodel.sql.sqltypes.AutoString(length=2),
                nullable=False,
                server_default="km",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("radius_unit")
