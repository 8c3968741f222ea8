"""Partners: suppliers and customers as records (name, GLN, address, contacts, currency,
payment terms), and what each supplier sells us (its lead time and minimum order quantity)."""
