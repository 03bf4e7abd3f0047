"""Alembic migrations; `create_all` is for tests only."""
