"""What the pages read that no other area answers in this shape."""
