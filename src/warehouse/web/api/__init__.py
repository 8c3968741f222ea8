"""Pages, sign-in and the assets they need."""
