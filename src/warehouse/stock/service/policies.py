"""Site-wide policies the use cases apply, read from settings once and passed in."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class StockPolicy:
    """Limits on what a movement may say.

    ``max_movement_qty``: the most one movement may move (``None``: only what the ledger can
    hold). ``clock_ahead_s`` / ``clock_behind_s``: a floor event whose time is that far after or
    before the service's clock is applied and flagged ``clock_skew``.
    ``require_registered_agents``: floor events need a registered agent.
    """

    max_movement_qty: Decimal | None = None
    clock_ahead_s: float = 300.0
    clock_behind_s: float = 7 * 86_400.0
    #: events of agents not registered (or revoked) are rejected as ``unknown_agent``
    require_registered_agents: bool = False


DEFAULT_POLICY = StockPolicy()
