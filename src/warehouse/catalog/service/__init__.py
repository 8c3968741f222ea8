"""Use cases and ports of the catalog."""
