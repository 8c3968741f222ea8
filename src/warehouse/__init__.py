"""Warehouse: the central inventory service and the shared MQTT contract."""

__version__ = "0.1.0"
