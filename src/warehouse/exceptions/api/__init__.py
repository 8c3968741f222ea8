"""The exceptions API."""
