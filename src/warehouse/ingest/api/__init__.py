"""The operations API of the ingest: rejected events and agents."""
