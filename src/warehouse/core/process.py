"""What every long-running process of the service does: its log set up (one line per event, secrets
masked), a clean stop on SIGINT and SIGTERM, and start-up objects left out of the collector."""

from __future__ import annotations

import logging
import re
import signal
import threading
from typing import TYPE_CHECKING, Any

from warehouse import logs

if TYPE_CHECKING:
    pass
import gc

log = logging.getLogger("warehouse")


_SECRETS = (
    # a URL's password: scheme://user:PASSWORD@host
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@"), r"\1***@"),
    # our API keys and refresh tokens: whk_ID.SECRET, whr_ID.SECRET
    (re.compile(r"\b(wh[kr]_[0-9a-f]+)\.[A-Za-z0-9_-]+"), r"\1.***"),
    # JSON Web Tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "eyJ***"),
)


def mask_secrets(text: str) -> str:
    """``text`` with URL passwords, API keys, refresh tokens and JWTs masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def setup_logging(level: str, fmt: str = "text") -> None:
    """One line per event (text: time, level, logger, message; json: one object per line);
    secrets masked (URL passwords, tokens, keys), at every level and in tracebacks."""
    logs.configure(level, fmt, mask_secrets)
    if level != "DEBUG":  # Alembic tells every command which plugins and context it set up
        logging.getLogger("alembic").setLevel(logging.WARNING)


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, for a clean stop."""
    stop = threading.Event()

    def _handler(signum: int, _frame: Any) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    return stop


def freeze_startup_objects() -> None:
    """Leave what start-up built (modules, SQLAlchemy metadata, the app) out of the cyclic
    collector's sweeps. Without this a full collection walked all of it a few times a second
    under load, each a 60 ms stop of the API's event loop, which was its p99
    (docs/performance.md). For processes that own their service: not for apps inside tests or
    the demo, which build many and would keep them all."""
    gc.collect()
    gc.freeze()
