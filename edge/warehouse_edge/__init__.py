"""The edge agent: scanners and readers in, durable events out over MQTT."""

__version__ = "0.1.0"
