"""Alembic environment: URL from the caller, metadata from storage.tables."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from storage import tables
from storage.db import configure_sqlite, is_sqlite, sync_url

config = context.config
url = sync_url(config.attributes["database_url"])
target_metadata = tables.metadata


def run_migrations() -> None:
    engine = create_engine(url)
    if is_sqlite(url):
        configure_sqlite(engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=is_sqlite(url),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
