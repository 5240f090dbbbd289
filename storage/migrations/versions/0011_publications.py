"""publications per trial, when each trial is next checked, results alerts in the outbox

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 16:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Empty at first: every stored trial gets its first check spread over the next week.
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("pmid", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("doi", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("journal", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("published", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("found_by", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("registry_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("pubtypes", _json(), nullable=False),
        sa.Column("citation", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("first_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("results_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trial.id"],
            name=op.f("fk_publication_trial_id_trial"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
        sa.UniqueConstraint("trial_id", "key", name=op.f("uq_publication_trial_id")),
    )
    op.create_table(
        "publication_check",
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trial.id"],
            name=op.f("fk_publication_check_trial_id_trial"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trial_id", name=op.f("pk_publication_check")),
    )
    op.create_index(
        op.f("ix_publication_check_due_at"), "publication_check", ["due_at"], unique=False
    )
    # A results alert is about one publication, not a version (version_id stays NULL); the
    # (chat, publication) key makes it once per chat, as (chat, version) does for changes.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("publication_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_outbox_publication_id_publication"),
            "publication",
            ["publication_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            batch.f("uq_outbox_chat_id_publication_id"), ["chat_id", "publication_id"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE publication_id IS NOT NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(batch.f("uq_outbox_chat_id_publication_id"), type_="unique")
        batch.drop_constraint(batch.f("fk_outbox_publication_id_publication"), type_="foreignkey")
        batch.drop_column("publication_id")
    op.drop_index(op.f("ix_publication_check_due_at"), table_name="publication_check")
    op.drop_table("publication_check")
    op.drop_table("publication")
