"""Products in SQL, their listing, and barcode and EPC parsing."""
