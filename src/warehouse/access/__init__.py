"""Who may do what, where: users and their roles per site, sign-in, API keys, registered devices,
the audit log, and the permission every route declares."""
