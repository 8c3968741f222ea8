"""The ingest: device events applied exactly once (inbox, agents and their sequences, rejected
events, RFID observations), and the worker that takes them from MQTT and sends acks and commands
back to the devices."""
