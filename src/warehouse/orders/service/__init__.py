"""Use cases of orders: receiving, fulfilment, picking, shipping, transfers, returns, and the
floor's scans matched to orders."""
