"""Adapters: SQLAlchemy persistence, MQTT clients, barcode parsing. They implement the ports."""
