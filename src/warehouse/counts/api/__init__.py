"""The cycle counts API."""
