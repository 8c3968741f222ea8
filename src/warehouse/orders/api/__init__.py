"""The orders API: purchase and sales orders, packages, returns and transfers."""
