"""The exceptions queue: everything the floor did that does not match what was expected, with
what a manager can do about it. (Not Python exceptions: those are in domain/errors.py.)"""

from __future__ import annotations

from enum import StrEnum


class ExceptionKind(StrEnum):
    """What did not match."""

    UNKNOWN_CODE = "unknown_code"  # a scanned code no product has; its event waits
    REJECTED_EVENT = "rejected_event"  # an event the ingest could not use (its reason says why)
    NEGATIVE_STOCK = "negative_stock"  # floor events took a location below zero
    OVER_RECEIPT = "over_receipt"
    UNEXPECTED_ITEM = "unexpected_item"  # received against an order that does not list it
    UNKNOWN_SSCC = "unknown_sscc"  # a package no advance shipping notice announced
    SHORT_RECEIPT = "short_receipt"  # an order closed with lines short
    WRONG_ITEM = "wrong_item"
    OVER_PICK = "over_pick"
    UNDER_PICK = "under_pick"  # packed with reserved stock still unpicked
    WRONG_LOCATION = "wrong_location"
    WRONG_LOT = "wrong_lot"
    MISSING_TAG = "missing_tag"  # an RFID sweep did not see a unit the ledger places there
    UNEXPECTED_TAG = "unexpected_tag"  # RFID saw a unit the ledger places elsewhere
    UNKNOWN_TAG = "unknown_tag"  # RFID saw a tag that is no unit and names no product
    TRANSFER_DISCREPANCY = "transfer_discrepancy"  # arrived other than it was shipped
    SEQUENCE_GAP = "sequence_gap"  # an agent's events missing (see GET /agents)
    PRICE_MISMATCH = "price_mismatch"  # a register charged other than the service's prices
    UNKNOWN_ITEM = "unknown_item"  # a register sold a code no product has (no stock moved)
    EXPIRED_LOT = "expired_lot"  # a register sold goods of a lot past its expiry


class Resolution(StrEnum):
    """How an exception is closed."""

    LINK_CODE = "link_code"  # the code becomes an alias of a product; the waiting event applies
    ADJUST = "adjust"  # post an adjustment that makes the books match the floor
    ACCEPT = "accept"  # what happened stands as it is
    DISMISS = "dismiss"  # not a real problem (a reason is required)


_ANY = (Resolution.ACCEPT, Resolution.DISMISS)

#: What each kind of exception may be resolved with, first the usual one.
SUGGESTIONS: dict[ExceptionKind, tuple[Resolution, ...]] = {
    ExceptionKind.UNKNOWN_CODE: (Resolution.LINK_CODE, Resolution.DISMISS),
    ExceptionKind.REJECTED_EVENT: (Resolution.DISMISS,),
    ExceptionKind.NEGATIVE_STOCK: (Resolution.ADJUST, *_ANY),
    ExceptionKind.OVER_RECEIPT: (Resolution.ACCEPT, Resolution.ADJUST, Resolution.DISMISS),
    ExceptionKind.UNEXPECTED_ITEM: (Resolution.ACCEPT, Resolution.ADJUST, Resolution.DISMISS),
    ExceptionKind.UNKNOWN_SSCC: (Resolution.DISMISS,),
    ExceptionKind.SHORT_RECEIPT: (Resolution.ACCEPT, Resolution.DISMISS),
    ExceptionKind.WRONG_ITEM: (Resolution.DISMISS,),
    ExceptionKind.OVER_PICK: (Resolution.DISMISS,),
    ExceptionKind.UNDER_PICK: (Resolution.ACCEPT, Resolution.DISMISS),
    ExceptionKind.WRONG_LOCATION: (Resolution.DISMISS,),
    ExceptionKind.WRONG_LOT: (Resolution.DISMISS,),
    ExceptionKind.MISSING_TAG: (Resolution.ADJUST, *_ANY),
    ExceptionKind.UNEXPECTED_TAG: (Resolution.ACCEPT, Resolution.DISMISS),
    ExceptionKind.UNKNOWN_TAG: (Resolution.DISMISS,),
    ExceptionKind.TRANSFER_DISCREPANCY: (Resolution.ACCEPT, Resolution.DISMISS),
    ExceptionKind.SEQUENCE_GAP: (Resolution.ACCEPT, Resolution.DISMISS),
    ExceptionKind.PRICE_MISMATCH: (Resolution.ACCEPT, Resolution.DISMISS),
    ExceptionKind.UNKNOWN_ITEM: (Resolution.ADJUST, *_ANY),
    ExceptionKind.EXPIRED_LOT: _ANY,
}


class ExceptionStatus(StrEnum):
    """Open until someone resolves or dismisses it."""

    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
