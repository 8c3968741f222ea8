"""What every area's HTTP API shares: problem responses, parameters, the read side, the body limit
and the health endpoints."""
