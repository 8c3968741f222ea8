"""Which locations a listing may show: the one asked for, checked against the principal's sites."""

from __future__ import annotations

from warehouse.access.api.security import default_site, require_sites
from warehouse.access.domain import ACTIONS, Principal
from warehouse.core.api.deps import Reads
from warehouse.stock.adapters import location_queries


async def location_in_scope(
    principal: Principal, action_name: str, location: str | None, reads: Reads
) -> str | None:
    """The location filter a listing runs with: the one asked for, checked against the
    principal's sites, or, when none was asked for, :func:`default_site`."""
    if location is None:
        return default_site(principal, action_name)
    if principal.sites_for(ACTIONS[action_name]) is not None:
        sites = await reads.run(location_queries.location_sites, [location])
        if location in sites:  # an unknown one is the query's 404
            require_sites(principal, action_name, [sites[location]], every=True)
    return location
