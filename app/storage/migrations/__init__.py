"""Alembic's environment and the schema's revisions (see `app.storage.migrate`)."""
