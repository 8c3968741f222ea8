"""Signing in, the audit log, and the permission check every route of the API declares."""
