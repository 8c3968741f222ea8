"""Ports: what the use cases need from persistence and the outside world.

Each port has a SQLAlchemy implementation in ``warehouse.adapters``; use-case tests run them
on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal, Protocol, Self

from warehouse.domain.access import Grant
from warehouse.domain.model import Location, Movement, Product, StockKey
from warehouse.service_layer.ports_orders import (
    CountRepository,
    ExceptionRepository,
    OrderRepository,
    TransferRepository,
)
from warehouse.service_layer.ports_pos import PosRepository


@dataclass(frozen=True, slots=True)
class ParsedCode:
    """What a scanned code says: its GTIN-14 and any GS1 lot, serial and expiry."""

    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    sscc: str | None = None  # an (00) SSCC: a package, not a product


@dataclass(frozen=True, slots=True)
class ParsedEpc:
    """What an EPC says: its pure identity URN and, for an SGTIN, GTIN-14 and serial."""

    hex: str
    uri: str | None = None
    gtin: str | None = None
    serial: str | None = None
    sscc: str | None = None  # an SSCC-96 tag: a package


#: What a failed store call means to the caller: ``unavailable`` (the database cannot be
#: reached: wait and try again, never give up), ``retry`` (serialization failure, deadlock: try
#: again a few times), ``fatal`` (no schema: nothing will work until someone acts),
#: ``permanent`` (this input cannot be stored: isolate it).
FailureKind = Literal["unavailable", "retry", "fatal", "permanent"]


class FailureClassifier(Protocol):
    """Tells what an exception raised by a unit of work means."""

    def __call__(self, exc: BaseException) -> FailureKind: ...


class EpcParser(Protocol):
    """Decode an EPC read from a tag; ``None`` if it is not a valid EPC."""

    def __call__(self, epc: str) -> ParsedEpc | None: ...


@dataclass(frozen=True, slots=True)
class Sweep:
    """A counting station's RFID sweep of one location, compared with what the units say."""

    event_id: str
    agent_id: str
    location_id: int
    at: datetime
    expected: int
    observed: int
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]


class CodeParser(Protocol):
    """Decode barcode data (GTIN, GS1 element string, Digital Link); ``None`` if not GS1."""

    def __call__(self, code: str) -> ParsedCode | None: ...


@dataclass(slots=True)  # not frozen: one per ingested event (see service_layer/commands.py)
class InboxEntry:
    """The dedupe row of one event: its id claims it once and for all."""

    event_id: str
    agent_id: str | None
    site: str | None
    seq: int | None
    type: str
    status: str  # applied | rejected | recorded
    received_at: datetime
    payload: bytes | None = None
    payload_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A rejected event, kept with its raw payload and a specific reason."""

    received_at: datetime
    reason: str
    detail: str
    payload: bytes
    payload_size: int
    topic: str | None = None
    event_id: str | None = None
    agent_id: str | None = None
    site: str | None = None
    seq: int | None = None
    payload_hash: str | None = None
    original_payload: bytes | None = None  # a conflicting duplicate's first body


@dataclass(frozen=True, slots=True)
class SerialUnit:
    """One serialized unit (serial number, EPC) and where it is now."""

    product_id: int
    serial: str | None
    epc: str | None
    location_id: int
    lot: str = ""
    id: int | None = None  # None until stored


class ProductRepository(Protocol):
    def get(self, sku: str) -> Product | None: ...
    def by_id(self, product_id: int) -> Product | None: ...
    def by_code(self, codes: Sequence[str]) -> Product | None: ...
    def add(self, product: Product) -> Product: ...
    def update(self, product: Product) -> Product: ...
    def delete(self, sku: str) -> None: ...
    def codes_taken(self, codes: Iterable[str], except_sku: str | None = None) -> list[str]: ...


class LocationRepository(Protocol):
    def get(self, code: str) -> Location | None: ...
    def by_id(self, location_id: int) -> Location | None: ...
    def add(self, location: Location) -> Location: ...
    def update(self, location: Location) -> Location: ...
    def has_children(self, code: str) -> bool: ...
    def delete(self, code: str) -> None: ...


class StockRepository(Protocol):
    def balances(self, keys: Iterable[StockKey], *, lock: bool) -> dict[StockKey, Decimal]: ...
    def apply(self, deltas: Mapping[StockKey, Decimal], at: datetime) -> None: ...
    def in_use(self, *, product_id: int | None = None, location_id: int | None = None) -> bool: ...


class LedgerRepository(Protocol):
    def append(self, movements: Sequence[Movement], recorded_at: datetime) -> list[int]: ...


class UnitRepository(Protocol):
    def find(self, product_id: int, serial: str | None, epc: str | None) -> SerialUnit | None: ...
    def by_epc(self, epc: str) -> SerialUnit | None: ...
    def place(self, unit: SerialUnit, at: datetime) -> None: ...
    def find_many(
        self, serials: Iterable[tuple[int, str]], epcs: Iterable[str]
    ) -> list[SerialUnit]: ...
    def place_many(self, units: Sequence[SerialUnit], at: datetime) -> None: ...
    def epcs_at(self, location_id: int) -> set[str]: ...


class SweepRepository(Protocol):
    def add(self, sweep: Sweep) -> None: ...


class InboxRepository(Protocol):
    def claim(self, entries: Sequence[InboxEntry]) -> set[str]: ...
    def bodies(self, event_ids: Iterable[str]) -> dict[str, tuple[str | None, bytes | None]]: ...
    def seqs_above(self, acked: Mapping[str, int], limit: int) -> dict[str, list[int]]: ...


@dataclass(frozen=True, slots=True)
class SeqReport:
    """What one batch saw of one agent: its site, the seqs it committed, the highest boot."""

    agent_id: str
    site: str
    seqs: Sequence[int]
    boot: int | None


class AgentRepository(Protocol):
    def track(self, batch: Sequence[SeqReport], at: datetime) -> dict[str, int]: ...
    def heartbeat(self, agent_id: str, site: str, health: dict[str, Any], at: datetime) -> None: ...
    def status(self, agent_id: str, site: str, state: str, at: datetime) -> None: ...
    def lost_below(self, agent_id: str, below: int, at: datetime) -> None: ...
    def due_resyncs(  # (site, agent, from seq, gaps asked about for the first time)
        self, opened_before: datetime, asked_before: datetime, at: datetime
    ) -> list[tuple[str, str, int, list[tuple[int, int]]]]: ...


class RejectionRepository(Protocol):
    def add(self, rejections: Sequence[Rejection]) -> None: ...
    def conflicts_known(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]: ...


class CatalogVersion(Protocol):
    """A counter every catalog change raises, so caches in every process know to drop."""

    def current(self) -> int: ...
    def bump(self) -> None: ...


class IdempotencyRepository(Protocol):
    def claim(
        self, key: str, fingerprint: str, at: datetime
    ) -> tuple[str, int, dict[str, Any]] | None: ...
    def complete(self, key: str, status: int, body: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as stored (the hash never leaves the service layer)."""

    id: int
    username: str
    password_hash: str
    disabled: bool
    failed_logins: int
    locked_until: datetime | None
    grants: tuple[Grant, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """One member of a refresh-token family."""

    id: str
    family: str
    user_id: int
    secret_hash: str
    expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key as stored."""

    id: str
    name: str
    secret_hash: str
    grants: tuple[Grant, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """A registered edge agent and its MQTT password hash."""

    agent_id: str
    site: str
    password_hash: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One manual change."""

    at: datetime
    actor: str
    action: str
    target: str
    site: str | None = None
    before: Any = None
    after: Any = None


class AccessRepository(Protocol):
    def add_user(self, username: str, password_hash: str, at: datetime) -> int: ...
    def user(self, username: str) -> UserRecord | None: ...
    def user_by_id(self, user_id: int) -> UserRecord | None: ...
    def users(self) -> list[UserRecord]: ...
    def update_user(self, user_id: int, at: datetime, **values: Any) -> None: ...
    def add_grant(self, user_id: int, grant: Grant) -> bool: ...
    def remove_grant(self, user_id: int, grant: Grant) -> bool: ...
    def add_refresh(self, record: RefreshRecord, issued_at: datetime) -> None: ...
    def refresh(self, token_id: str) -> RefreshRecord | None: ...
    def rotate(self, token_id: str, at: datetime) -> bool: ...
    def revoke_family(self, family: str, at: datetime) -> None: ...
    def revoke_refresh_of(self, user_id: int, at: datetime) -> None: ...
    def add_key(self, record: ApiKeyRecord) -> None: ...
    def key(self, key_id: str) -> ApiKeyRecord | None: ...
    def keys(self) -> list[ApiKeyRecord]: ...
    def update_key(self, key_id: str, **values: Any) -> bool: ...
    def add_device(self, record: DeviceRecord) -> None: ...
    def device(self, agent_id: str) -> DeviceRecord | None: ...
    def devices(self) -> list[DeviceRecord]: ...
    def update_device(self, agent_id: str, **values: Any) -> bool: ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...


class UnitOfWork(Protocol):
    """One transaction over every repository; leaving the block without commit rolls back."""

    products: ProductRepository
    locations: LocationRepository
    stock: StockRepository
    ledger: LedgerRepository
    units: UnitRepository
    inbox: InboxRepository
    agents: AgentRepository
    rejections: RejectionRepository
    idempotency: IdempotencyRepository
    sweeps: SweepRepository
    catalog_version: CatalogVersion
    access: AccessRepository
    audit: AuditRepository
    orders: OrderRepository
    exceptions: ExceptionRepository
    counts: CountRepository
    transfers: TransferRepository
    pos: PosRepository

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
