"""The web dashboard: server-rendered pages over the same permission table as the API."""
