"""Alembic environment: the engine comes from :mod:`shared.db.engine`.

``DATABASE_URL`` locally; the Cloud SQL connector with IAM auth when
``INSTANCE_CONNECTION_NAME`` is set (Cloud Build runs ``alembic upgrade head`` that way).
A URL given programmatically (``config.attributes["database_url"]``) wins.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from shared.config import get_settings
from shared.db.engine import create_db_engine, migration_budget
from shared.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    url = config.attributes.get("database_url") or get_settings().database_url
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.attributes.get("database_url")
    engine = (
        create_engine(url, poolclass=pool.NullPool)
        if url
        else create_db_engine(get_settings(), migration_budget(get_settings()))
    )
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
