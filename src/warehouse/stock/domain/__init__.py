"""Pure rules of stock: locations, movements and the ledger's routes. Standard library only."""
