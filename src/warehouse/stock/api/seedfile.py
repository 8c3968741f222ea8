"""Seed files: a catalog and a location tree from YAML, or either one from CSV."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from warehouse.catalog.api.schemas import ProductIn
from warehouse.catalog.domain import NegativePolicy, Product
from warehouse.stock.api.schemas import LocationIn
from warehouse.stock.domain.model import Location as DomainLocation
from warehouse.stock.domain.model import LocationKind

T = TypeVar("T")
R = TypeVar("R")
_PRODUCTS: TypeAdapter[list[ProductIn]] = TypeAdapter(list[ProductIn])
_LOCATIONS: TypeAdapter[list[LocationIn]] = TypeAdapter(list[LocationIn])


class SeedFileError(ValueError):
    """A seed file that cannot be read, naming the file, entry and field."""


def load(path: Path) -> tuple[list[DomainLocation], list[Product]]:
    """Read one seed file (``.yaml``/``.yml`` or ``.csv``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedFileError(f"{path}: {exc.strerror}") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        return _from_yaml(path, text)
    if path.suffix.lower() == ".csv":
        return _from_csv(path, text)
    raise SeedFileError(f"{path}: expected a .yaml, .yml or .csv file")


def _from_yaml(path: Path, text: str) -> tuple[list[DomainLocation], list[Product]]:
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SeedFileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not set(doc) <= {"locations", "products"}:
        raise SeedFileError(f"{path}: expected a mapping with 'locations' and/or 'products'")
    return (
        _validate(path, "locations", _LOCATIONS, doc.get("locations") or [], _location),
        _validate(path, "products", _PRODUCTS, doc.get("products") or [], _product),
    )


def _from_csv(path: Path, text: str) -> tuple[list[DomainLocation], list[Product]]:
    rows = [
        {k: v for k, v in row.items() if v not in ("", None)}
        for row in csv.DictReader(text.splitlines())
    ]
    header = set(rows[0]) if rows else set()
    if "sku" in header:
        for row in rows:
            for key in ("gtins", "aliases"):
                row[key] = row.get(key, "").replace("|", " ").split()
        return [], _validate(path, "rows", _PRODUCTS, rows, _product)
    if {"code", "kind"} <= header:
        return _validate(path, "rows", _LOCATIONS, rows, _location), []
    raise SeedFileError(
        f"{path}: a CSV needs a 'sku' column (products) or 'code' and 'kind' columns (locations)"
    )


def _validate(
    path: Path, section: str, adapter: TypeAdapter[list[T]], data: Any, convert: Callable[[T], R]
) -> list[R]:
    try:
        items = adapter.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise SeedFileError(
            f"{path}: {section}.{where}: {err['msg']} (received {err.get('input')!r})"
        ) from exc
    return [convert(item) for item in items]


def _location(item: LocationIn) -> DomainLocation:
    return DomainLocation(
        code=item.code,
        name=item.name,
        kind=LocationKind(item.kind),
        parent_code=item.parent_code,
        negative_policy=NegativePolicy(item.negative_policy) if item.negative_policy else None,
        gln=item.gln,
        gln_extension=item.gln_extension,
    )


def _product(item: ProductIn) -> Product:
    return item.to_domain(item.sku)
