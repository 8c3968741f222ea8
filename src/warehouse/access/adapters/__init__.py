"""Access in SQL, the credentials (argon2id, JWT) and Mosquitto's password and ACL files."""
