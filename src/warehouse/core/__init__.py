"""Shared plumbing every area stands on: settings, the database engine, the unit of work's base, SQL
helpers and column types, what a failure means, the MQTT clients, metrics, and the HTTP API's
problem responses, parameters and read side. It imports no area."""
