"""Valuation: what stock is worth at each site and what leaving it cost (FIFO layers, moving
average or standard cost per product), recorded for every movement that crosses a site's edge."""
