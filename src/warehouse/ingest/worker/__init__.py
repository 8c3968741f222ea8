"""The ingest worker: MQTT in, batches applied, acks and commands out, and its periodic chores."""
