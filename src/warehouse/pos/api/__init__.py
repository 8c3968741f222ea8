"""The point-of-sale API."""
