"""Dashboard sessions: a sign-in that the browser keeps as an HttpOnly cookie.

A session is a refresh-token family of one member (the same records as the API's logins, so
one sign-out and one "end every session of this user" cover both), whose expiry slides: it ends
``idle`` after its last use, at sign-out, or at once when its user is disabled. Every request
looks it up, so a revoked grant takes effect on the next page. It is never rotated: a cookie
presented after someone refreshed it through the API is refused like a replayed token.

Forms carry a CSRF token derived from the cookie's secret (an HMAC of a fixed label keyed by
it): a page of another origin can neither read the cookie nor compute the token, and the
server keeps nothing more to check it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from warehouse.access.domain import Principal
from warehouse.access.service.accounts import (
    REFRESH_PREFIX,
    LoginPolicy,
    Session,
    _split,
    login,
    logout,
)
from warehouse.access.service.ports import AccessTokens, AccessUnitOfWork, Credentials
from warehouse.core.errors import NotAuthenticated

#: A session's expiry is pushed forward at most this often (a write), not on every request.
EXTEND_EVERY = timedelta(seconds=60)


def sign_in(
    new_uow: Callable[[], AccessUnitOfWork],
    creds: Credentials,
    tokens: AccessTokens,
    username: str,
    password: str,
    now: datetime,
    policy: LoginPolicy,
    idle: timedelta,
) -> Session:
    """A login whose refresh token (the cookie) lasts ``idle`` until used again; the same
    backoff, lockout and audit as the API's login."""
    return login(new_uow, creds, tokens, username, password, now, replace(policy, refresh_ttl=idle))


def principal_of_session(
    new_uow: Callable[[], AccessUnitOfWork],
    creds: Credentials,
    presented: str,
    now: datetime,
    idle: timedelta,
) -> Principal:
    """The user a session cookie names, its expiry pushed to ``now + idle``; NotAuthenticated
    if it is unknown, ended, timed out, or its user disabled."""
    parts = _split(presented, REFRESH_PREFIX)
    if parts is None:
        raise NotAuthenticated("sign in to continue")
    with new_uow() as uow:
        record = uow.access.refresh(parts[0])
        if record is None or not creds.same_digest(parts[1], record.secret_hash):
            raise NotAuthenticated("this session is not valid; sign in again")
        if record.revoked_at is not None or record.rotated_at is not None:
            raise NotAuthenticated("this session has ended; sign in again")
        if record.expires_at <= now:
            minutes = f"{idle.total_seconds() / 60:g}"
            raise NotAuthenticated(
                f"the session ended after {minutes} minutes without use; sign in again"
            )
        user = uow.access.user_by_id(record.user_id)
        if user is None or user.disabled:
            raise NotAuthenticated("this account is disabled")
        if record.expires_at < now + idle - EXTEND_EVERY:
            uow.access.extend_refresh(record.id, now + idle)
            uow.commit()
    return Principal("user", str(user.id), user.username, user.grants)


def sign_out(
    new_uow: Callable[[], AccessUnitOfWork], creds: Credentials, presented: str, now: datetime
) -> None:
    """End the session (an unknown cookie ends nothing)."""
    logout(new_uow, creds, presented, now)


def csrf_of(presented: str) -> str:
    """The CSRF token of the session ``presented`` names: an HMAC keyed by its secret."""
    parts = _split(presented, REFRESH_PREFIX)
    key = (parts[1] if parts else presented).encode()
    return hmac.new(key, b"warehouse dashboard form", hashlib.sha256).hexdigest()[:32]


def same_csrf(presented: str, sent: str | None) -> bool:
    """Whether a form's or header's token is the session's (constant time)."""
    return sent is not None and hmac.compare_digest(csrf_of(presented), sent)
