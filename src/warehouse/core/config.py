"""Typed settings, read once and passed in.

Precedence: arguments > environment (``WAREHOUSE_…``) > config file (TOML) > defaults. The config
file is named by ``--config`` or ``WAREHOUSE_CONFIG``.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="WAREHOUSE_", extra="forbid")

    database_url: str = Field(
        "sqlite:///warehouse.db", description="SQLAlchemy URL: sqlite:///FILE or postgresql://…"
    )
    read_database_url: str = Field(
        "",
        description="postgresql://… of a streaming replica: the API's reads go there, except a "
        "client's within read_your_writes_s of its own write (docs/scaling.md); '' for none",
    )
    read_your_writes_s: float = Field(
        5.0, gt=0, le=3600, description="How long after a write a client's reads go to the primary"
    )
    replica_retry_s: float = Field(
        5.0, gt=0, le=3600, description="After the replica failed, read from the primary this long"
    )
    currency: str = Field(
        "EUR",
        pattern=r"^[A-Z]{3}$",
        description="The book currency (ISO 4217) stock is valued in and purchase orders cost in",
    )
    label_printers: dict[str, str] = Field(
        default_factory=dict,
        description='Network label printers by name: {"dock": "10.0.0.7:9100"} (raw port 9100)',
    )
    mqtt_url: str = Field(
        "mqtt://127.0.0.1:1883", description="mqtt://[user:pass@]host[:port], mqtts:// for TLS"
    )
    mqtt_protocol: Literal["5", "3.1.1"] = Field(
        "5", description="MQTT version; 3.1.1 for brokers without 5 (amqtt)"
    )
    mqtt_share_group: str = Field(
        "warehouse-ingest",
        description="Shared-subscription group of the ingest workers; '' for none",
    )
    mqtt_site: str = Field(
        "+", description="Site level of the events subscription: '+' for all, or one site id"
    )
    mqtt_client_id: str = Field("", description="Default: warehouse-ingest-<host>-<pid>")
    mqtt_ca_file: Path | None = Field(
        None, description="The CA of the broker's certificate, for mqtts:// (default: the system's)"
    )
    mqtt_cert_file: Path | None = Field(
        None, description="A client certificate, for a broker that requires one"
    )
    mqtt_key_file: Path | None = Field(None, description="The client certificate's key")
    nats_url: str = Field(
        "",
        description="nats://[user:pass@]host:port of a NATS JetStream cluster, several comma-"
        "separated: the ingest consumes device events from its stream instead of the MQTT broker "
        "(docs/scaling.md); '' for MQTT",
    )
    nats_partitions: int = Field(
        8, ge=1, le=1024, description="Partitions of the ingest stream: nats_mappings' count"
    )
    nats_replicas: int = Field(
        1, ge=1, le=5, description="Replicas of the ingest stream and its leases (3 on a cluster)"
    )
    nats_ca_file: Path | None = Field(
        None, description="The CA of the NATS servers' certificate, for tls:// URLs"
    )
    ingest_batch_size: int = Field(500, ge=1, le=5000)
    ingest_batch_ms: int = Field(
        10,
        ge=0,
        le=10_000,
        description="How long a batch may wait for more after its first message while the "
        "buffer is empty (a full batch goes at once). The default 10 ms makes fewer, bigger "
        "transactions at moderate rates: at a steady 500 events/s 42 % less worker CPU per "
        "event for about 10 ms more latency; 0: a batch goes as soon as the buffer is empty "
        "(docs/performance.md)",
    )
    ingest_threads: int = Field(
        1, ge=1, le=16, description="Batch threads per worker, each with its own connection"
    )
    ingest_receiver: Literal["process", "thread"] = Field(
        "thread",
        description="Where the worker's MQTT client runs: a thread, or its own process (own GIL)",
    )
    ingest_buffer_messages: int = Field(
        20_000,
        ge=100,
        le=1_000_000,
        description="Messages received and not yet committed, at most; past it the worker stops "
        "reading from the broker (backpressure) instead of buffering",
    )
    ingest_buffer_mb: float = Field(
        64, gt=0, le=4096, description="The same bound in payload megabytes"
    )
    gap_resync_after_s: float = Field(
        30, gt=0, description="Ask an agent to re-send a sequence gap open this long"
    )
    gap_resync_every_s: float = Field(
        60, gt=0, description="... and again this often, while the gap stays open"
    )
    reservation_check_s: float = Field(
        10, gt=0, le=3600, description="How often the ingest worker releases expired holds"
    )
    price_book_check_s: float = Field(
        30, gt=0, le=3600, description="How often the ingest worker looks for changed price books"
    )
    stream_poll_s: float = Field(
        0.05, gt=0, le=10, description="How often the stock stream reads the change feed"
    )
    stock_feed_retention_s: float = Field(
        7 * 86400,
        ge=60,
        description="How long the stock change feed keeps changes for clients that resume",
    )
    gs1_company_prefix: str = Field(
        "0614141",
        pattern=r"^\d{6,12}$",
        description="GS1 company prefix of the SSCCs packed here (GS1's example by default)",
    )
    gs1_company_prefixes: dict[str, str] = Field(
        default_factory=dict, description='Per site, e.g. {"WH1": "4012345"}; else the above'
    )
    sscc_extension: int = Field(0, ge=0, le=9, description="The SSCC's extension digit")
    ingest_http_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Port of the ingest worker's /healthz and /readyz (unset: not served)",
    )
    ingest_http_host: str = "127.0.0.1"
    max_payload_bytes: int = Field(256 * 1024, ge=1024)
    max_movement_qty: Decimal | None = Field(
        None, gt=0, description="The most one movement may move; unset: what the ledger holds"
    )
    clock_ahead_s: float = Field(
        300, ge=0, description="Floor events timed further ahead are flagged clock_skew"
    )
    clock_behind_s: float = Field(
        7 * 86_400, ge=0, description="Floor events timed further back are flagged clock_skew"
    )
    db_pool_size: int = Field(10, ge=1, le=500, description="Pooled connections per process")
    db_max_overflow: int = Field(
        10, ge=0, le=500, description="Connections beyond the pool under a burst"
    )
    db_pool_timeout_s: float = Field(
        5, gt=0, le=120, description="Wait for a free connection before answering 503"
    )
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=0, le=65535)
    api_page_cache_mb: float = Field(
        32,
        ge=0,
        le=4096,
        description="Encoded listing pages kept per API process by version (0: off)",
    )
    api_max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Larger request bodies are refused (413) as they stream"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = Field(
        "text", description="json: one JSON object per line (event_id, agent_id, seq as fields)"
    )
    environment: Literal["development", "production"] = Field(
        "development",
        description="production: `warehouse serve` refuses to start without a signing secret of "
        "at least 32 bytes",
    )
    jwt_secret: SecretStr | None = Field(
        None,
        description="Signs access tokens (at least 32 bytes). Unset in development: a random "
        "one per process, so tokens end with the process",
    )
    jwt_secret_file: Path | None = Field(
        None, description="A file holding the signing secret (a Docker or systemd secret)"
    )
    access_token_minutes: float = Field(15, gt=0, le=24 * 60)
    refresh_token_days: float = Field(14, gt=0, le=365)
    web_idle_minutes: float = Field(
        30,
        gt=0,
        le=24 * 60,
        description="A dashboard session ends after this long without a page or a live update",
    )
    login_max_failures: int = Field(
        5, ge=1, le=100, description="Failed logins in a row that lock an account"
    )
    login_lockout_s: float = Field(900, ge=1, description="How long a locked account stays locked")
    login_backoff_max_s: float = Field(
        30, ge=0, description="The longest wait between failed logins before the lockout"
    )
    login_address_limit: str = Field(
        "20/10minutes",
        description="Failed logins allowed per client address (the `limits` notation); past "
        "it, 429",
    )
    api_rate_limit: str = Field(
        "1200/minute", description="Requests per user or API key (the `limits` notation)"
    )
    api_key_recheck_s: float = Field(
        5,
        ge=0,
        le=300,
        description="Seconds an API process trusts an API key it has checked before asking the "
        "database again: a key revoked from the CLI is refused by every running API process "
        "within this time (0: ask on every request)",
    )
    redis_url: str | None = Field(
        None,
        description="redis://host:6379/0: rate limits shared by every API process (default: "
        "each process counts on its own)",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks of reverse proxies whose X-Forwarded-For is believed",
    )
    require_registered_agents: bool = Field(
        True,
        description="Reject events of agents not registered with `warehouse devices register` "
        "(unknown_agent)",
    )

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


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read settings with the documented precedence; unset overrides are ignored."""
    config_file = config_file or (
        Path(os.environ["WAREHOUSE_CONFIG"]) if os.environ.get("WAREHOUSE_CONFIG") else None
    )
    if config_file is not None and not config_file.is_file():
        raise FileNotFoundError(f"config file {config_file} does not exist")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if config_file is None:
        return Settings(**overrides)
    with_file = type(
        "Settings",
        (Settings,),
        {"model_config": {**Settings.model_config, "toml_file": config_file}},
    )
    return with_file(**overrides)  # type: ignore[no-any-return]


def masked(url: str) -> str:
    """``url`` with its password replaced by ``***``, for logs and messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL we can take apart: show nothing of it that could be secret
        return "<unparseable URL>"
    if not password:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


MIN_SECRET_BYTES = 32


def signing_secret(settings: Settings) -> bytes | None:
    """The access-token signing secret from the setting or its file; ``None`` when neither is
    set. ValueError when it is too short, or missing in production."""
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value().encode()
    elif settings.jwt_secret_file is not None:
        try:
            secret = settings.jwt_secret_file.read_bytes().strip()
        except OSError as exc:
            raise ValueError(f"jwt_secret_file {settings.jwt_secret_file}: {exc.strerror}") from exc
    else:
        if settings.environment == "production":
            raise ValueError(
                "production needs WAREHOUSE_JWT_SECRET or WAREHOUSE_JWT_SECRET_FILE (at least "
                f"{MIN_SECRET_BYTES} bytes; e.g. `openssl rand -base64 48`)"
            )
        return None
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(
            f"the signing secret has {len(secret)} bytes; it needs at least {MIN_SECRET_BYTES}"
        )
    return secret
