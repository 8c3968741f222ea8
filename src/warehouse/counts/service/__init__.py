"""Use cases and ports of cycle counts."""
