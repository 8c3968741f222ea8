"""Entrypoints: the HTTP API, the ingest worker, the CLI and the demo."""
