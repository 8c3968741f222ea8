"""Use cases over the domain, and the ports (unit of work, repositories) they need."""
