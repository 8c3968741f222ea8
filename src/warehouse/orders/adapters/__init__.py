"""Orders in SQL, their read side, shipping labels and CSV imports."""
