"""Use cases of access: users, sign-in and API keys; devices."""
