"""Stock: locations, the append-only ledger, the projection of on-hand and reserved stock,
serialized units, RFID sweeps and the change feed."""
