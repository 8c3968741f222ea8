"""Log formats: text, or one JSON object per line with an event's ids as fields; masked."""

from __future__ import annotations

import json
import logging

import pytest

from warehouse import logs
from warehouse.core.process import mask_secrets


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("warehouse.ingest", logging.INFO, __file__, 1, message, args, None)
    rec.__dict__.update(extra)
    return rec


def test_json_lines_carry_the_event_ids_as_fields_and_are_masked() -> None:
    fmt = logs.formatter("json", mask_secrets)
    ids = logs.ids("6f1c", "dock-1", 42)
    line = fmt.format(record("to mqtt://ingest:s3cret@broker:1883 seq=%d", 42, **ids))
    doc = json.loads(line)
    assert (doc["event_id"], doc["agent_id"], doc["seq"]) == ("6f1c", "dock-1", 42)
    assert (doc["level"], doc["logger"]) == ("INFO", "warehouse.ingest")
    assert "s3cret" not in line
    assert "\n" not in line


def test_text_is_the_default_and_unknown_formats_are_refused() -> None:
    line = logs.formatter().format(record("hello %s", "world"))
    assert line.endswith("INFO    warehouse.ingest: hello world")
    assert logs.ids(seq=3) == {"seq": 3}
    with pytest.raises(ValueError, match="text, json"):
        logs.formatter("xml")
