"""The point of sale in SQL and its read side."""
