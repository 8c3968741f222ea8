"""What devices on the floor report and are told back: the decoded events and the outcome of
matching them. Shared by every area that reacts to the floor (orders, counts, pos, ingest)."""
