"""Use cases and ports of the exceptions queue."""
