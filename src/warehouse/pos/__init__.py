"""The point of sale: price lists, tax rates and promotions per site, registers and cashier
sessions, sales through the API or from edge registers, and refunds."""
