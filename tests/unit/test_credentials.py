"""Passwords, tokens and Mosquitto's hash format."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import require
from warehouse.access.adapters import credentials
from warehouse.access.adapters.credentials import InvalidToken, TokenSigner
from warehouse.access.domain import Grant, Role

ADMIN = (Grant(Role.ADMIN, "*"),)


def test_a_cached_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = TokenSigner(b"k" * 32, timedelta(seconds=60))
    token = signer.issue(1, "alice", ADMIN, datetime.now(UTC))
    assert signer.check(token)["name"] == "alice"
    assert signer.check(token)["name"] == "alice"  # from the cache
    later = datetime.now(UTC).timestamp() + 120
    monkeypatch.setattr(credentials.time, "time", lambda: later)
    with pytest.raises(InvalidToken, match="expired"):
        signer.check(token)


def test_a_token_of_another_secret_or_tampered_is_refused() -> None:
    ours = TokenSigner(b"k" * 32, timedelta(minutes=5))
    theirs = TokenSigner(b"x" * 32, timedelta(minutes=5))
    token = theirs.issue(1, "mallory", ADMIN, datetime.now(UTC))
    with pytest.raises(InvalidToken, match="not valid"):
        ours.check(token)
    good = ours.issue(1, "alice", (Grant(Role.CASHIER, "ST1"),), datetime.now(UTC))
    head, body, sig = good.split(".")
    with pytest.raises(InvalidToken):
        ours.check(f"{head}.{body}x.{sig}")


def test_passwords_hash_with_argon2id() -> None:
    stored = credentials.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert credentials.verify_password(stored, "correct horse battery")
    assert not credentials.verify_password(stored, "wrong horse battery")
    assert not credentials.verify_password(None, "anything")


def test_our_mosquitto_hash_and_mosquitto_passwd_agree(tmp_path: Path) -> None:
    ours = credentials.mosquitto_hash("s3cret-device")
    assert credentials.mosquitto_verify(ours, "s3cret-device")
    assert not credentials.mosquitto_verify(ours, "other")
    require("mosquitto_passwd", shutil.which("mosquitto_passwd") is not None, "not installed")
    path = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(path), "dev", "s3cret-device"], check=True)
    theirs = path.read_text().strip().split(":", 1)[1]
    assert credentials.mosquitto_verify(theirs, "s3cret-device")
