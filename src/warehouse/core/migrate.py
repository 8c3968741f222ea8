"""Alembic, driven from code: the migrations ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from warehouse.core.db import normalise_url

#: The Alembic script directory (not a package: its env.py reads every area's tables).
MIGRATIONS = Path(__file__).parents[1] / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    """The schema revision this version of the code needs."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision; None when it has no schema. Raises what connecting
    raises (the database may be unreachable)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_problem(engine: Engine, shown_url: str) -> str | None:
    """One line saying what to run when the schema is missing or not this version's."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return None
    if current is None:
        return f"database {shown_url} has no schema yet: run `warehouse db upgrade`"
    return (
        f"database {shown_url} is at schema revision {current}; this version needs {head}: "
        "run `warehouse db upgrade`"
    )
