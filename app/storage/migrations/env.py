"""Alembic environment: runs against the engine the app hands over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from app.storage.tables import metadata

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
    )
    context.run_migrations()
