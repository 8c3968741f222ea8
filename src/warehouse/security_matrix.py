"""docs/security.md's matrix of routes and roles, printed from the app's routes and the
permission table: ``python -m warehouse.security_matrix``."""

from __future__ import annotations

import sys

from warehouse.access.api.security import security_matrix
from warehouse.app import create_app

if __name__ == "__main__":
    sys.stdout.write(security_matrix(create_app()))
