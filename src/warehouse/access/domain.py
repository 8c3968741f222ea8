"""Who may do what, where: roles granted per site, and the actions each role allows.

A grant is a role at one site (the code of a top-level location, such as ``WH1`` or ``ST1``) or
at every site (``*``). A manager of ST1 is nobody at WH1. The table below is the only place
that says which role may do which action; the API's route table (access/api/security.py)
names an action for every route, and docs/security.md's matrix is generated from both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a person or integration is at a site."""

    CASHIER = "cashier"
    STAFF = "staff"
    MANAGER = "manager"
    ADMIN = "admin"


ALL_SITES = "*"


class Scope(StrEnum):
    """Where an action's grant must hold.

    ``any``: at some site (the data is not a site's own: the product catalog, one's own
    account). ``site``: at the site the request touches; a listing without a site filter is
    narrowed to the principal's sites. ``all``: at every site (``*``), for what changes all
    sites at once (the catalog) or shows every site's data unfiltered.
    """

    ANY = "any"
    SITE = "site"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Action:
    """An action, the roles that may take it, and where their grant must hold."""

    name: str
    roles: frozenset[Role]
    scope: Scope
    summary: str

    def allows(self, role: Role) -> bool:
        """Whether ``role`` may take this action (an admin may take every action)."""
        return role in self.roles or role is Role.ADMIN


def _action(name: str, roles: str, scope: Scope, summary: str) -> Action:
    return Action(name, frozenset(Role(r) for r in roles.split()), scope, summary)


#: The permission table.
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        _action("session", "cashier staff manager admin", Scope.ANY, "see one's own account"),
        _action("catalog.read", "cashier staff manager admin", Scope.ANY, "read the catalog"),
        _action("catalog.write", "manager admin", Scope.ALL, "change the catalog"),
        _action("labels.print", "staff manager admin", Scope.ANY,
                "print labels on the configured label printers"),
        _action("partners.read", "staff manager admin", Scope.ANY,
                "read suppliers and customers"),
        _action("partners.write", "manager admin", Scope.ALL,
                "change suppliers, customers and what suppliers sell"),
        _action("stock.read", "cashier staff manager admin", Scope.SITE, "read stock levels"),
        _action("movements.read", "staff manager admin", Scope.SITE, "read the ledger"),
        _action("movements.write", "staff manager admin", Scope.SITE, "post a manual movement"),
        _action("operations.read", "manager admin", Scope.SITE, "see agents and their health"),
        _action("devices.revoke", "admin", Scope.SITE,
                "revoke an edge agent (its events are refused from then on)"),
        _action("rejections.read", "manager admin", Scope.ALL, "see rejected events"),
        _action("audit.read", "manager admin", Scope.SITE, "read the audit log"),
        _action("orders.read", "staff manager admin", Scope.SITE, "read orders and packages"),
        _action("purchase_orders.write", "manager admin", Scope.SITE,
                "create and close purchase orders"),
        _action("sales_orders.write", "staff manager admin", Scope.SITE,
                "create, confirm, cancel sales orders"),
        _action("fulfilment.write", "staff manager admin", Scope.SITE,
                "pack and ship packages"),
        _action("exceptions.read", "staff manager admin", Scope.SITE,
                "see the exceptions queue"),
        _action("exceptions.resolve", "manager admin", Scope.SITE, "resolve exceptions"),
        _action("returns.write", "staff manager admin", Scope.SITE, "record customer returns"),
        _action("counts.read", "staff manager admin", Scope.SITE, "see counts"),
        _action("counts.write", "staff manager admin", Scope.SITE,
                "start, enter and refresh counts"),
        _action("transfers.write", "staff manager admin", Scope.SITE,
                "create, ship and receive transfers"),
        _action("reports.read", "manager admin", Scope.SITE, "read and export reports"),
        _action("units.read", "staff manager admin", Scope.SITE,
                "see serialized units and RFID sweeps"),
        _action("counts.approve", "manager admin", Scope.SITE,
                "approve a count's variance (and see a blind count's book)"),
        _action("pos.read", "cashier staff manager admin", Scope.SITE,
                "read price books, registers, sessions, sales and receipts"),
        _action("pos.sell", "cashier manager admin", Scope.SITE,
                "ring up sales, open and close cashier sessions"),
        _action("pos.refund", "cashier manager admin", Scope.SITE,
                "refund against a receipt"),
        _action("pos.override", "manager admin", Scope.SITE,
                "override a price; refund without a receipt"),
        _action("pos.manage", "manager admin", Scope.SITE,
                "set price lists, tax rates, promotions and registers"),
    )
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Grant:
    """A role at a site, or at every site."""

    role: Role
    site: str

    def covers(self, site: str | None) -> bool:
        """Whether this grant holds at ``site`` (``None``: a site-less thing, such as a
        supplier location, which any site's grant covers)."""
        return self.site == ALL_SITES or site is None or self.site == site


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a user or an API key, with its grants."""

    kind: str  # "user" | "key"
    id: str
    name: str
    grants: tuple[Grant, ...]

    @property
    def actor(self) -> str:
        """How the audit log names it: ``user:alice``, ``key:3f9a…``."""
        return f"{self.kind}:{self.name if self.kind == 'user' else self.id}"

    def _grants_for(self, action: Action) -> list[Grant]:
        return [g for g in self.grants if action.allows(g.role)]

    def may(self, action: Action) -> bool:
        """Whether some grant allows ``action`` where its scope says (before any site check)."""
        grants = self._grants_for(action)
        if action.scope is Scope.ALL:
            return any(g.site == ALL_SITES for g in grants)
        return bool(grants)

    def may_at(self, action: Action, site: str | None) -> bool:
        """Whether ``action`` is allowed at ``site``."""
        return any(g.covers(site) for g in self._grants_for(action))

    def sites_for(self, action: Action) -> frozenset[str] | None:
        """The sites where ``action`` is allowed; ``None`` for every site."""
        grants = self._grants_for(action)
        if any(g.site == ALL_SITES for g in grants):
            return None
        return frozenset(g.site for g in grants)


def parse_grant(text: str) -> Grant:
    """``ROLE@SITE`` (``manager@ST1``, ``admin@*``) as a Grant; ValueError naming what is wrong."""
    role, sep, site = text.partition("@")
    if not sep or not site:
        raise ValueError(f"{text!r}: a grant is ROLE@SITE, e.g. manager@ST1 or admin@*")
    try:
        return Grant(Role(role.strip().lower()), site.strip())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise ValueError(f"{text!r}: unknown role {role!r} (roles: {roles})") from None


def site_of_path(path: str | None) -> str | None:
    """The site of a location by its path (``/WH1/A/01/`` → ``WH1``); ``None`` for none."""
    if not path:
        return None
    return path.strip("/").split("/", 1)[0] or None
