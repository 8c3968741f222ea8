"""Use cases of stock: resolving what was reported, posting movements, manual movements,
locations."""
