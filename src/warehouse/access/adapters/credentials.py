"""Secrets made, hashed and checked: passwords (argon2id), access tokens (JWT, HS256), random
tokens and API keys (SHA-256 of 256 random bits), and Mosquitto's password hash for devices.

Random secrets are hashed with plain SHA-256, not argon2: a slow hash protects what people
choose, which can be guessed; 256 random bits cannot be, and an API key is checked on every
request (decisions.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

import bcrypt
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from warehouse.access.domain import Grant, Role

_hasher = PasswordHasher()  # argon2id, the library's (RFC 9106 low-memory) parameters
#: Checked against when the username does not exist, so a wrong name costs what a wrong
#: password costs and the answer's timing tells nothing.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash, does the same work and says no."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def random_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def random_id(nbytes: int = 8) -> str:
    """A random public id, hex."""
    return secrets.token_hex(nbytes)


def digest(secret: str) -> str:
    """SHA-256 of a random secret, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, expected_hex: str) -> bool:
    """Constant-time comparison of ``secret``'s digest with a stored one."""
    return hmac.compare_digest(digest(secret), expected_hex)


class InvalidToken(Exception):
    """An access token that is malformed, forged or expired; the message says which."""


class TokenSigner:
    """Signs and checks access tokens with one HS256 secret."""

    ALGORITHM = "HS256"

    #: Tokens already verified, with their claims: a client sends the same token for minutes,
    #: and its signature does not change. Bounded; expiry is checked on every use.
    MAX_SEEN = 10_000

    def __init__(self, secret: bytes, ttl: timedelta, issuer: str = "warehouse") -> None:
        self._secret = secret
        self.ttl = ttl
        self._issuer = issuer
        self._seen: dict[str, dict[str, Any]] = {}

    def issue(self, user_id: int, username: str, grants: tuple[Grant, ...], now: datetime) -> str:
        """A token for ``username`` with its grants, valid for ``ttl`` from ``now``."""
        claims = {
            "iss": self._issuer,
            "sub": str(user_id),
            "name": username,
            "grants": [[g.role.value, g.site] for g in grants],
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "typ": "access",
        }
        return jwt.encode(claims, self._secret, algorithm=self.ALGORITHM)

    def check(self, token: str) -> dict[str, Any]:
        """The token's claims; InvalidToken if it is not one of ours or has expired."""
        seen = self._seen.get(token)
        if seen is not None:
            if seen["exp"] > time.time():
                return seen
            del self._seen[token]
            raise InvalidToken("the access token has expired; refresh it or log in again")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[self.ALGORITHM],
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the access token has expired; refresh it or log in again") from None
        except jwt.PyJWTError:
            raise InvalidToken("the access token is not valid") from None
        if claims.get("typ") != "access" or not isinstance(claims.get("grants"), list):
            raise InvalidToken("the access token is not valid")
        if len(self._seen) >= self.MAX_SEEN:
            self._seen.clear()
        self._seen[token] = claims
        return claims


def grants_of(claims: dict[str, Any]) -> tuple[Grant, ...]:
    """The grants a checked token carries."""
    try:
        return tuple(Grant(Role(role), str(site)) for role, site in claims["grants"])
    except (TypeError, ValueError) as exc:
        raise InvalidToken("the access token is not valid") from exc


MOSQUITTO_ITERATIONS = 101  # mosquitto_passwd's own default (Mosquitto 2.0)


def mosquitto_hash(password: str, *, iterations: int = MOSQUITTO_ITERATIONS) -> str:
    """The hash ``mosquitto_passwd`` writes: ``$7$ITERATIONS$SALT$PBKDF2-SHA512``, base64."""
    salt = secrets.token_bytes(12)
    derived = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(derived).decode()}"


def mosquitto_verify(stored: str, password: str) -> bool:
    """Whether ``password`` matches a ``$7$`` hash (as Mosquitto checks it)."""
    try:
        _, kind, iterations, salt, expected = stored.split("$")
        if kind != "7":
            return False
        derived = hashlib.pbkdf2_hmac(
            "sha512", password.encode(), base64.b64decode(salt), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(base64.b64encode(derived).decode(), expected)


NATS_BCRYPT_COST = 11  # what `nats server passwd` uses


def nats_hash(password: str, *, cost: int = NATS_BCRYPT_COST) -> str:
    """The bcrypt hash nats-server checks a password against (``$2b$…``)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()


class Credentials:
    """The functions above, as the service layer's ``Credentials`` port."""

    hash_password = staticmethod(hash_password)
    verify_password = staticmethod(verify_password)
    random_secret = staticmethod(random_secret)
    random_id = staticmethod(random_id)
    digest = staticmethod(digest)
    same_digest = staticmethod(same_digest)
    mosquitto_hash = staticmethod(mosquitto_hash)
    nats_hash = staticmethod(nats_hash)
