"""Domain errors. Expected floor outcomes are flags on movements, not exceptions.

Exception tree::

    DomainError
    ├── NotFound                 a product, location or resource does not exist
    ├── Conflict                 a unique thing exists already, or a key was reused differently
    ├── InvalidCursor            a page cursor that the API did not hand out
    ├── DeviceUnreachable        a device the service talks to (a label printer) did not answer
    ├── NotAuthenticated         credentials missing, wrong, expired or revoked
    ├── Forbidden                the principal's roles do not allow the action there
    ├── TryLater                 too many attempts: wait ``retry_after`` seconds
    └── RuleViolation            a command breaks a rule (the field it concerns is named), of:
        ├── StockRule            the ledger: routes, quantities, tracking, the location tree
        │   ├── InsufficientStock    the ``block`` policy refuses a movement that would go
        │   │                        negative
        │   └── OutOfRange       a quantity or balance beyond what the ledger holds
        ├── CatalogRule          products and their codes
        ├── OrderRule            purchase and sales orders, returns, transfers
        ├── CountRule            cycle counts
        ├── SaleRule             the point of sale: registers, sessions, prices, sales, refunds
        ├── ResolutionRule       how an exception of the queue may be resolved
        ├── AccessRule           users and their passwords
        └── QueryRule            what a listing or report needs to be asked

Each rule family has its own problem type and title (``slug`` and ``title``), so a client tells
"register ST1-REG1 has no open session" from "location NOWHERE is not a physical location".
"""

from __future__ import annotations

from decimal import Decimal


class DomainError(Exception):
    """Base of every domain error; ``field`` names the input it concerns when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """A referenced product, location or resource does not exist."""


class Conflict(DomainError):
    """A unique thing exists already, or an idempotency key was reused with another request."""


class DeviceUnreachable(DomainError):
    """A device the service talks to (a network label printer) did not answer."""


class InvalidCursor(DomainError):
    """A page cursor that is not one the API handed out (or one from another listing)."""


class NotAuthenticated(DomainError):
    """Credentials missing, wrong, expired or revoked (between a wrong username and a wrong
    password the message does not tell)."""


class Forbidden(DomainError):
    """The principal is known, and its roles do not allow the action where it was asked."""


class TryLater(DomainError):
    """Too many attempts: ``retry_after`` whole seconds until the next may be made."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after + 0.999))


class RuleViolation(DomainError):
    """A command breaks a rule; each family below is its own problem type."""

    slug = "rule-violation"
    title = "The request breaks a rule"


class StockRule(RuleViolation):
    """A rule of the ledger: routes, quantities, tracking, the location tree."""

    slug = "stock-rule"
    title = "The request breaks a stock rule"


class CatalogRule(RuleViolation):
    """A rule of the catalog: products and their codes."""

    slug = "catalog-rule"
    title = "The request breaks a catalog rule"


class OrderRule(RuleViolation):
    """A rule of orders, returns and transfers."""

    slug = "order-rule"
    title = "The request breaks an order rule"


class CountRule(RuleViolation):
    """A rule of cycle counts."""

    slug = "count-rule"
    title = "The request breaks a count rule"


class SaleRule(RuleViolation):
    """A rule of the point of sale: registers, sessions, prices, sales and refunds."""

    slug = "sale-rule"
    title = "The request breaks a point-of-sale rule"


class ResolutionRule(RuleViolation):
    """How an exception of the queue may be resolved."""

    slug = "resolution-rule"
    title = "The resolution does not fit the exception"


class AccessRule(RuleViolation):
    """A rule of users and their passwords."""

    slug = "access-rule"
    title = "The request breaks an access rule"


class QueryRule(RuleViolation):
    """What a listing, report or stream needs to be asked."""

    slug = "query-rule"
    title = "The query needs more than it says"


class InsufficientStock(StockRule):
    """The ``block`` negative-stock policy refuses a movement."""

    def __init__(self, sku: str, location: str, lot: str, available: Decimal, qty: Decimal) -> None:
        lot_text = f" lot {lot!r}" if lot else ""
        super().__init__(
            f"{sku}{lot_text} at {location}: {available} on hand, {qty} requested",
            field="qty",
        )
        self.available = available
        self.requested = qty
        self.sku = sku


class OutOfRange(StockRule):
    """A quantity above the configured maximum, or a balance beyond what a location may hold.

    Floor events are never refused for breaking stock rules, but one that cannot be stored at
    all is rejected with this reason instead of stalling everything behind it."""
