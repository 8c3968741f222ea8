"""The reports API (JSON or CSV)."""
