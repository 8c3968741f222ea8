"""Use cases and ports of the point of sale."""
