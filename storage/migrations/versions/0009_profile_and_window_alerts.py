"""profile per subscription and window alerts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Both empty at first: a subscription without a profile matches exactly as before.
    with op.batch_alter_table("subscription") as batch:
        batch.add_column(sa.Column("stroke_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("birth_year", sa.Integer(), nullable=True))
    # A window alert is about the trial as it is when sent, not a version: NULL, which the
    # (chat_id, version_id) key lets coexist with an earlier alert about the same version.
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("version_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "window_alert",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chat.chat_id"],
            name=op.f("fk_window_alert_chat_id_chat"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_window_alert_subscription_id_subscription"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trial.id"],
            name=op.f("fk_window_alert_trial_id_trial"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", "trial_id", name=op.f("pk_window_alert")),
    )
    op.create_index(op.f("ix_window_alert_chat_id"), "window_alert", ["chat_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_window_alert_chat_id"), table_name="window_alert")
    op.drop_table("window_alert")
    op.execute("DELETE FROM outbox WHERE version_id IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("version_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("birth_year")
        batch.drop_column("stroke_date")
