"""The point of sale's repository in SQL: price books (prices.py), registers and cashier sessions
(registers.py), sales and refunds (sales.py), on one connection."""

from __future__ import annotations

from sqlalchemy import Connection

from warehouse.pos.adapters.prices import SqlPrices
from warehouse.pos.adapters.registers import SqlRegisters
from warehouse.pos.adapters.sales import SqlPosSales


class SqlPos(SqlPrices, SqlRegisters, SqlPosSales):
    """Everything of the point of sale that is stored: one port, three parts."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
