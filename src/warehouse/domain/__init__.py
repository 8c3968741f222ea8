"""Pure domain: products, locations, the ledger's rules. Standard library only."""
