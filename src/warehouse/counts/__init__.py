"""Cycle counts: a session snapshots the book of a location subtree, counts come in by scan, RFID
sweep or the API, and approval posts the differences."""
