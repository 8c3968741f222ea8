"""Secrets never reach the log: URL passwords, API keys, refresh tokens and JWTs are masked in
messages and tracebacks, at every level."""

from __future__ import annotations

import io
import logging

import pytest

from warehouse import logs
from warehouse.core.process import mask_secrets

URL = "postgresql://app:s3cr3t-pw@db.internal:5432/warehouse"
KEY = "whk_3f9a2c4d5e6f7a8b.Jr2Lw8sQn0vV4pYx-_9kTz"
REFRESH = "whr_00ff00ff00ff00ff00ff00ff00ff00ff.AbCdEfGh-_123"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sKx3lM-9_aQ"


def test_each_kind_is_masked() -> None:
    text = mask_secrets(f"db {URL} key {KEY} refresh {REFRESH} bearer {JWT}")
    for secret in ("s3cr3t-pw", KEY.split(".")[1], REFRESH.split(".")[1], JWT[4:]):
        assert secret not in text
    assert "postgresql://app:***@db.internal:5432/warehouse" in text
    assert "whk_3f9a2c4d5e6f7a8b.***" in text  # the key's id stays, to say which key


@pytest.mark.parametrize("fmt", logs.FORMATS)
def test_tracebacks_at_debug_are_masked(fmt: str) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.formatter(fmt, mask_secrets))
    log = logging.getLogger("test.masking")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        raise ConnectionError(f"could not connect to {URL} with {KEY}")
    except ConnectionError:
        log.debug("connecting with token %s failed", JWT, exc_info=True)
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    assert "ConnectionError" in text
    assert "Traceback" in text
    for secret in ("s3cr3t-pw", KEY.split(".")[1], JWT[4:]):
        assert secret not in text
