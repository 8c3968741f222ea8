"""Count sessions in SQL and their read side."""
