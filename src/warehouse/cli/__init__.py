"""The ``warehouse`` command: the root group in root.py, one module per group of subcommands.

``run`` (serve, ingest, demo), ``database`` (db upgrade, check-projection, rebuild-projection),
``catalog`` (seed), ``access`` (users, api-keys, devices, mqtt export-acl), ``orders`` (import).
Every command that needs the database opens it through :func:`open_service`, which says in one
line what is wrong with it (unreachable, no schema, an old schema) and what to run.
"""

from warehouse.cli import access, catalog, database, orders, run  # registers the subcommands
from warehouse.cli.root import main, open_service

__all__ = ["access", "catalog", "database", "main", "open_service", "orders", "run"]
