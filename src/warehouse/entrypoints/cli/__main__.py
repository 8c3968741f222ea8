"""``python -m warehouse.entrypoints.cli``."""

from warehouse.entrypoints.cli import main

main()
