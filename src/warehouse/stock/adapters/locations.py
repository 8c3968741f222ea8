"""The location tree in SQL."""

from __future__ import annotations

from sqlalchemy import Connection, delete, exists, select, update
from sqlalchemy.sql.elements import ColumnElement

from warehouse.catalog.domain import NegativePolicy
from warehouse.core.sql import now
from warehouse.stock.adapters import tables
from warehouse.stock.domain.model import Location, LocationKind


class SqlLocations:
    """The location tree, with materialised paths for subtree queries."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, code: str) -> Location | None:
        return self._one(tables.locations.c.code == code)

    def by_id(self, location_id: int) -> Location | None:
        return self._one(tables.locations.c.id == location_id)

    def _one(self, where: ColumnElement[bool]) -> Location | None:
        loc, parent = tables.locations, tables.locations.alias("parent")
        row = self.conn.execute(
            select(loc, parent.c.code.label("parent_code"))
            .outerjoin(parent, parent.c.id == loc.c.parent_id)
            .where(where)
        ).first()
        if row is None:
            return None
        return Location(
            code=row.code,
            name=row.name,
            kind=LocationKind(row.kind),
            parent_code=row.parent_code,
            negative_policy=NegativePolicy(row.negative_policy) if row.negative_policy else None,
            site=row.path.strip("/").split("/", 1)[0] if row.parent_code else row.code,
            id=row.id,
            gln=row.gln,
            gln_extension=row.gln_extension or None,
        )

    def add(self, location: Location) -> Location:
        loc = tables.locations
        parent_id, path = None, f"/{location.code}/"
        if location.parent_code:
            parent = self.conn.execute(
                select(loc.c.id, loc.c.path).where(loc.c.code == location.parent_code)
            ).one()
            parent_id, path = parent.id, f"{parent.path}{location.code}/"
        location.id = self.conn.execute(
            loc.insert()
            .values(
                code=location.code,
                name=location.name,
                kind=location.kind.value,
                parent_id=parent_id,
                path=path,
                negative_policy=location.negative_policy.value
                if location.negative_policy
                else None,
                gln=location.gln,
                gln_extension=location.gln_extension or "",
                created_at=now(),
            )
            .returning(loc.c.id)
        ).scalar_one()
        return location

    def update(self, location: Location) -> Location:
        loc = tables.locations
        self.conn.execute(
            update(loc)
            .where(loc.c.code == location.code)
            .values(
                name=location.name,
                kind=location.kind.value,
                negative_policy=location.negative_policy.value
                if location.negative_policy
                else None,
                gln=location.gln,
                gln_extension=location.gln_extension or "",
            )
        )
        return location

    def holding_gln(self, gln: str, extension: str | None) -> str | None:
        """The code of the location with this GLN and extension, if any."""
        loc = tables.locations
        return self.conn.execute(
            select(loc.c.code).where(loc.c.gln == gln, loc.c.gln_extension == (extension or ""))
        ).scalar()

    def has_children(self, code: str) -> bool:
        loc, parent = tables.locations, tables.locations.alias("parent")
        return bool(
            self.conn.execute(
                select(exists().where(loc.c.parent_id == parent.c.id, parent.c.code == code))
            ).scalar()
        )

    def delete(self, code: str) -> None:
        self.conn.execute(delete(tables.locations).where(tables.locations.c.code == code))
