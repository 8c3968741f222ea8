"""Agent presence: online and offline from the retained status topic."""

from __future__ import annotations

from datetime import datetime

from warehouse.service_layer.ports import UnitOfWork


def record_status(uow: UnitOfWork, agent_id: str, site: str, state: str, at: datetime) -> None:
    """Remember an agent's last announced state."""
    with uow:
        uow.agents.status(agent_id, site, state, at)
        uow.commit()
