"""What the ingest keeps, in SQL: the inbox, agents and their sequences, rejected events."""
