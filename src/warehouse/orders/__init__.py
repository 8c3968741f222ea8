"""Orders: purchase orders received by scan, sales orders reserved, picked, packed and shipped,
transfers between locations and sites, and customer returns."""
