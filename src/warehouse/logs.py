"""How the service and the agent write their logs: one line per event as text (the default) or
as one JSON object per line (``--log-format json``, python-json-logger) for a log shipper.

A log call about one event passes ``extra=ids(...)``: in JSON its ``event_id``, ``agent_id``
and ``seq`` become fields of their own, so the lines of one event can be found across the agent,
the broker's neighbours and the service. Both formats go through ``mask`` (the service's masks
URL passwords, tokens and keys) after formatting, tracebacks included.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from pythonjsonlogger.json import JsonFormatter

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def ids(
    event_id: Any = None, agent_id: str | None = None, seq: int | None = None
) -> dict[str, Any]:
    """The ``extra`` of a log call about one event (what is unknown is left out)."""
    out: dict[str, Any] = {}
    if event_id is not None:
        out["event_id"] = str(event_id)
    if agent_id is not None:
        out["agent_id"] = agent_id
    if seq is not None:
        out["seq"] = seq
    return out


class _Masked(logging.Formatter):
    def __init__(self, inner: logging.Formatter, mask: Callable[[str], str]) -> None:
        super().__init__()
        self.inner, self.mask = inner, mask

    def format(self, record: logging.LogRecord) -> str:
        return self.mask(self.inner.format(record))


def formatter(fmt: str = "text", mask: Callable[[str], str] | None = None) -> logging.Formatter:
    """The formatter for ``fmt`` (``text`` or ``json``), masked by ``mask``."""
    if fmt not in FORMATS:
        raise ValueError(f"log format is one of {', '.join(FORMATS)}, not {fmt!r}")
    inner: logging.Formatter
    if fmt == "json":
        inner = JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    else:
        inner = logging.Formatter(TEXT_FORMAT)
    return _Masked(inner, mask) if mask is not None else inner


def configure(level: str, fmt: str = "text", mask: Callable[[str], str] | None = None) -> None:
    """Log to standard error at ``level`` in ``fmt``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt, mask))
    logging.basicConfig(level=level, handlers=[handler], force=True)
