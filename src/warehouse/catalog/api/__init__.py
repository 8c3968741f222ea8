"""The products API."""
