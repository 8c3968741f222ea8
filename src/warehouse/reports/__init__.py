"""Reports over every area: low stock, reorder suggestions, fill rate, pick accuracy, stock as of
a time, sales and tax. It reads everything; nothing imports it."""
