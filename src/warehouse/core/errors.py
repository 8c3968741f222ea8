"""Domain errors. Expected floor outcomes are flags on movements, not exceptions.

Exception tree::

    DomainError
    ├── NotFound                 a product, location or resource does not exist
    ├── Conflict                 a unique thing exists already, or a key was reused differently
    ├── InvalidCursor            a page cursor that the API did not hand out
    ├── NotAuthenticated         credentials missing, wrong, expired or revoked
    ├── Forbidden                the principal's roles do not allow the action there
    ├── TryLater                 too many attempts: wait ``retry_after`` seconds
    └── RuleViolation            a command breaks a ledger rule (the field it concerns is named)
        ├── InsufficientStock    the ``block`` policy refuses a movement that would go negative
        └── OutOfRange           a quantity or balance beyond what the ledger holds
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
    """A command breaks a ledger rule."""


class InsufficientStock(RuleViolation):
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


class OutOfRange(RuleViolation):
    """A quantity above the configured maximum, or a balance beyond what a location may hold.

    Floor events are never refused for breaking stock rules, but one that cannot be stored at
    all is rejected with this reason instead of stalling everything behind it."""
