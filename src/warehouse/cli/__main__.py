"""``python -m warehouse.cli``."""

from warehouse.cli import main

main()
