"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

from storage import db


async def test_migrated_schema_matches_the_models(database: str) -> None:
    def differences(connection) -> list:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with db.get_engine().connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_start_up_migration_is_idempotent_and_at_head(database: str) -> None:
    head = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
    await db.migrate(db.get_engine())
    async with db.get_engine().connect() as connection:
        versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    assert versions == [head]
