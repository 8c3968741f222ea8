"""The stock API: locations, stock levels, the ledger, serialized units and the live stream."""
