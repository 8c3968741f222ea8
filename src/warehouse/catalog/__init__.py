"""Products: what we stock, how it is counted and tracked, and every code (GTIN, alias) that finds
it."""
