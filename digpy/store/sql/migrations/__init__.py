"""Alembic migrations, run programmatically by ``store.sql.engine.migrate`` (no alembic.ini)."""
