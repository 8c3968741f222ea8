"""Agent configuration: one TOML file, validated; ``WAREHOUSE_EDGE_…`` variables override it
(nested with ``__``, e.g. ``WAREHOUSE_EDGE_BROKER__PASSWORD``)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from warehouse.contracts import ID_PATTERN
from warehouse_drivers import (
    BACKENDS,
    PRINTERS,
    RCN_REGIONS,
    DriverConfigError,
    create_driver,
    create_printer,
)

Mode = Literal[
    "receiving", "putaway", "picking", "packing", "shipping", "pos", "counting", "lookup"
]
MODES: tuple[str, ...] = Mode.__args__  # type: ignore[attr-defined]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Broker(_Section):
    """Where the MQTT broker is and how to log in."""

    url: str = Field("mqtt://127.0.0.1:1883", pattern=r"^mqtts?://")
    failover: list[Annotated[str, Field(pattern=r"^mqtts?://")]] = Field(
        default_factory=list,
        max_length=16,
        description="More URLs of the same broker cluster, tried in turn after `url` when the "
        "broker in use is lost or cannot be reached (same scheme, credentials and TLS files)",
    )
    username: str | None = None
    password: SecretStr | None = None
    protocol: Literal["5", "3.1.1"] = "5"
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = Field(30, ge=5, le=3600)

    @model_validator(mode="after")
    def _one_scheme(self) -> Broker:
        scheme = self.url.split(":", 1)[0]
        for url in self.failover:
            if url.split(":", 1)[0] != scheme:
                raise ValueError(f"failover URL {url} must use {scheme}:// like url")
        return self

    def urls(self) -> list[str]:
        """Where to connect, in the order tried."""
        return [self.url, *self.failover]


class Outbox(_Section):
    """The durable queue of events awaiting the service's ack."""

    path: Path = Path("/var/lib/warehouse-edge/outbox.db")
    disk_budget_mb: float = Field(256, gt=0)
    max_inflight: int = Field(1000, ge=1, le=60_000)  # paho's packet ids are 16-bit
    ack_timeout_s: float = Field(10, gt=0)
    keep_acked_h: float = Field(24, ge=0)


class Station(_Section):
    """A place where scans mean something: a dock door, a pick station, a register."""

    name: str = Field(min_length=1, max_length=64)
    mode: Mode
    location: str = Field(min_length=1, max_length=64, description="Where this station is")
    default_qty: Decimal = Field(Decimal(1), gt=0)
    debounce_ms: int = Field(500, ge=0, le=10_000)
    count_by_repeat: bool = Field(False, description="Repeated scans count: no debounce")
    pick_from: str | None = Field(None, description="Picking: source until a bin is scanned")
    order_pattern: str = r"^(SO|PO|PL|ORD|TO)-[A-Za-z0-9-]+$"
    location_prefix: str = "LOC:"
    qty_prefix: str = "QTY:"
    # RFID: how raw tag reads become arrivals and departures, and how often counting stations
    # send their sweep (the full set of tags per zone)
    presence_k: int = Field(3, ge=1)
    presence_window_s: float = Field(2.0, gt=0)
    presence_min_rssi: float = -70.0
    presence_absence_s: float = Field(5.0, gt=0)
    presence_margin_db: float = Field(6.0, ge=0)
    presence_dwell_s: float = Field(2.0, ge=0)
    sweep_interval_s: float = Field(60.0, gt=0)
    # point of sale: who rings up, and the cards that allow a price override
    cashier: str | None = Field(None, max_length=64, description="Registers: the cashier")
    float_minor: int = Field(
        0,
        ge=0,
        le=10**12,
        description="Registers: the float of a session a sale opens (when none was opened)",
    )
    manager_cards: list[SecretStr] = Field(
        default_factory=list, description="Registers: codes of manager cards (MGR:<code>)"
    )

    @model_validator(mode="after")
    def _pattern_compiles(self) -> Station:
        try:
            re.compile(self.order_pattern)
        except re.error as exc:
            raise ValueError(f"order_pattern is not a regular expression: {exc}") from exc
        return self


class Device(_Section):
    """A reader attached to a station, with its driver's parameters."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    driver: str
    station: str
    params: dict[str, Any] = Field(default_factory=dict)
    zones: dict[str, str] = Field(
        default_factory=dict,
        description="RFID: antenna number -> zone (a location code); default: the station's",
    )

    @model_validator(mode="after")
    def _known_driver(self) -> Device:
        if self.driver not in BACKENDS:
            raise ValueError(
                f"driver must be one of {', '.join(sorted(BACKENDS))}, not {self.driver!r}"
            )
        return self


class Printer(_Section):
    """A receipt printer (and its cash drawer) at a register station."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    driver: str = "escpos"
    station: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_printer(self) -> Printer:
        if self.driver not in PRINTERS:
            raise ValueError(
                f"driver must be one of {', '.join(sorted(PRINTERS))}, not {self.driver!r}"
            )
        return self


class Metrics(_Section):
    """The agent's Prometheus endpoint (``/metrics``); off unless ``port`` is set."""

    host: str = Field("127.0.0.1", description="Where to listen (0.0.0.0 for every interface)")
    port: int | None = Field(None, ge=0, le=65535, description="e.g. 9101; 0: any free port")


class Api(_Section):
    """The service's HTTP API, for the price book a register sells from."""

    url: str | None = Field(None, pattern=r"^https?://", description="e.g. https://stock.example")
    key: SecretStr | None = Field(None, description="An API key with pos.read at the site")
    timeout_s: float = Field(5.0, gt=0, le=120)
    ca_file: Path | None = None


class AgentConfig(BaseSettings):
    """Everything an agent needs to run."""

    model_config = SettingsConfigDict(
        env_prefix="WAREHOUSE_EDGE_", env_nested_delimiter="__", extra="forbid"
    )

    agent_id: str = Field(pattern=ID_PATTERN)
    site: str = Field(pattern=ID_PATTERN)
    broker: Broker = Broker()
    outbox: Outbox = Outbox()
    heartbeat_s: float = Field(30, ge=1)
    max_code_length: int = Field(512, ge=16, le=8192)
    rcn_region: str | None = Field(
        None,
        description="The site's rules for price- and weight-embedded barcodes (prefix 02, 20-29)"
        f": one of {', '.join(RCN_REGIONS)}",
    )
    stations: list[Station] = Field(min_length=1)
    devices: list[Device] = Field(default_factory=list)
    printers: list[Printer] = Field(default_factory=list)
    api: Api = Api()
    metrics: Metrics = Metrics()

    @model_validator(mode="after")
    def _references(self) -> AgentConfig:
        if self.rcn_region is not None and self.rcn_region not in RCN_REGIONS:
            raise ValueError(
                f"rcn_region must be one of {', '.join(RCN_REGIONS)}, not {self.rcn_region!r}"
            )
        names = [s.name for s in self.stations]
        if len(set(names)) != len(names):
            raise ValueError("station names must be unique")
        devices = [d.name for d in self.devices]
        if len(set(devices)) != len(devices):
            raise ValueError("device names must be unique")
        for index, device in enumerate(self.devices):
            if device.station not in names:
                raise ValueError(
                    f"devices.{index}.station: {device.station!r} is not one of "
                    f"the stations ({', '.join(names)})"
                )
        for index, printer in enumerate(self.printers):
            if printer.station not in names:
                raise ValueError(
                    f"printers.{index}.station: {printer.station!r} is not one of "
                    f"the stations ({', '.join(names)})"
                )
        return self

    def station(self, name: str) -> Station:
        """The station called ``name``."""
        return next(s for s in self.stations if s.name == name)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


class ConfigError(ValueError):
    """A config file that cannot be used; one line per problem, naming the field path."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


def load_config(path: Path) -> AgentConfig:
    """Read and validate an agent config file."""
    if not path.is_file():
        raise ConfigError(path, ["file does not exist"])
    with_file = type(
        "AgentConfig",
        (AgentConfig,),
        {"model_config": {**AgentConfig.model_config, "toml_file": path}},
    )
    try:
        config: AgentConfig = with_file()
    except ValidationError as exc:
        raise ConfigError(path, describe(exc)) from exc
    except ValueError as exc:  # TOML syntax
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from exc
    problems = []
    for i, device in enumerate(config.devices):  # each driver checks its own params
        try:
            create_driver(device.driver, device.name, **device.params)
        except DriverConfigError as exc:
            where = f"devices.{i}.params" + (f".{exc.field}" if exc.field else "")
            problems.append(f"{where}: {exc}")
    for i, printer in enumerate(config.printers):
        try:
            create_printer(printer.driver, printer.name, **printer.params)
        except DriverConfigError as exc:
            where = f"printers.{i}.params" + (f".{exc.field}" if exc.field else "")
            problems.append(f"{where}: {exc}")
    if problems:
        raise ConfigError(path, problems)
    return config


def describe(exc: ValidationError) -> list[str]:
    """Each error as 'field.path: message (received value)'."""
    out = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        if err["type"] == "missing":
            out.append(f"{where}: required, missing")
            continue
        received = err.get("input")
        shown = "" if isinstance(received, dict | list) else f" (received {received!r})"
        message = err["msg"].removeprefix("Value error, ")
        out.append(f"{where}: {message}{shown}")
    return out
