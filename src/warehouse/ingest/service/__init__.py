"""Use cases and ports of the ingest."""
