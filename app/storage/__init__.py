"""SQLite storage through SQLAlchemy Core, schema managed by Alembic."""
