"""The ``warehouse`` command: the root group in root.py, one module per group of subcommands.

``run`` (serve, ingest, demo), ``database`` (db upgrade, check-projection, rebuild-projection),
``catalog`` (seed), ``access`` (users, api-keys, devices), ``brokers`` (mqtt export-acl, nats
export), ``orders`` (import), ``valuation`` (rebuild).
Every command that needs the database opens it through :func:`open_service`, which says in one
line what is wrong with it (unreachable, no schema, an old schema) and what to run.
"""

from warehouse.cli import access, brokers, catalog, database, orders, run, valuation
from warehouse.cli.root import main, open_service

__all__ = [
    "access",
    "brokers",
    "catalog",
    "database",
    "main",
    "open_service",
    "orders",
    "run",
    "valuation",
]
