"""The exceptions queue in SQL, its listing and its gauge."""
