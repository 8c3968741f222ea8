"""Users, sign-in, refresh-token families and API keys; every change audited (devices are in
devices.py).

Sign-in failures back off per account: after the ``n``-th failure in a row the account cannot
be tried for ``min(2**(n-1), backoff_max_s)`` seconds, and after ``max_failures`` it is locked
for ``lockout_s``. A correct password resets the count. Per client address the API adds a rate
limit of its own (access/api/security.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from warehouse.access.domain import ALL_SITES, Grant, Principal, Role
from warehouse.access.service.ports import (
    AccessTokens,
    AccessUnitOfWork,
    ApiKeyRecord,
    AuditEntry,
    Credentials,
    RefreshRecord,
    UserRecord,
)
from warehouse.core.errors import (
    AccessRule,
    Conflict,
    NotAuthenticated,
    NotFound,
    TryLater,
)

MIN_PASSWORD = 12
KEY_PREFIX = "whk_"
REFRESH_PREFIX = "whr_"


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    max_failures: int = 5
    lockout_s: float = 900.0
    backoff_max_s: float = 30.0
    refresh_ttl: timedelta = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Session:
    """What a login or a refresh hands out."""

    access_token: str
    expires_in: int
    refresh_token: str
    user: UserRecord


def check_password(password: str) -> None:
    """Passwords of at least 12 characters; no other rule (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD:
        raise AccessRule(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    if len(password) > 1024:
        raise AccessRule("a password may have at most 1024 characters", field="password")


def _user_view(user: UserRecord) -> dict[str, object]:
    return {
        "username": user.username,
        "disabled": user.disabled,
        "grants": [f"{g.role.value}@{g.site}" for g in user.grants],
    }


def _need_user(uow: AccessUnitOfWork, username: str) -> UserRecord:
    user = uow.access.user(username)
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


def create_user(
    new_uow: Callable[[], AccessUnitOfWork],
    creds: Credentials,
    username: str,
    password: str,
    grants: tuple[Grant, ...],
    actor: str,
    now: datetime,
) -> UserRecord:
    """A new user with ``grants``; Conflict if the name is taken."""
    if not username or len(username) > 64 or not username.isprintable() or " " in username:
        raise AccessRule("a username is 1-64 printable characters, no spaces", field="username")
    check_password(password)
    with new_uow() as uow:
        if uow.access.user(username) is not None:
            raise Conflict(f"user {username!r} exists already", field="username")
        user_id = uow.access.add_user(username, creds.hash_password(password), now)
        for grant in grants:
            uow.access.add_grant(user_id, grant)
        user = uow.access.user_by_id(user_id)
        assert user is not None
        uow.audit.add(
            AuditEntry(now, actor, "user.create", f"user:{username}", None, None, _user_view(user))
        )
        uow.commit()
    return user


def set_password(
    new_uow: Callable[[], AccessUnitOfWork], creds: Credentials, username: str, password: str,
    actor: str, now: datetime,
) -> None:  # fmt: skip
    """A new password; it unlocks the account and ends every refresh-token family."""
    check_password(password)
    with new_uow() as uow:
        user = _need_user(uow, username)
        uow.access.update_user(
            user.id, now, password_hash=creds.hash_password(password), failed_logins=0,
            locked_until=None,
        )  # fmt: skip
        uow.access.revoke_refresh_of(user.id, now)
        uow.audit.add(AuditEntry(now, actor, "user.password", f"user:{username}"))
        uow.commit()


def set_disabled(
    new_uow: Callable[[], AccessUnitOfWork],
    username: str,
    disabled: bool,
    actor: str,
    now: datetime,
) -> None:
    """Disable (ending every refresh-token family) or enable a user."""
    with new_uow() as uow:
        user = _need_user(uow, username)
        uow.access.update_user(user.id, now, disabled=disabled)
        if disabled:
            uow.access.revoke_refresh_of(user.id, now)
        uow.audit.add(
            AuditEntry(
                now, actor, "user.disable" if disabled else "user.enable", f"user:{username}",
                None, {"disabled": user.disabled}, {"disabled": disabled},
            )
        )  # fmt: skip
        uow.commit()


def change_grant(
    new_uow: Callable[[], AccessUnitOfWork], username: str, grant: Grant, *, add: bool, actor: str,
    now: datetime,
) -> bool:  # fmt: skip
    """Grant or revoke a role at a site; whether anything changed. Revoking ends the user's
    refresh-token families, so the change reaches the user within one access token's life."""
    with new_uow() as uow:
        user = _need_user(uow, username)
        changed = (uow.access.add_grant if add else uow.access.remove_grant)(user.id, grant)
        if changed:
            if not add:
                uow.access.revoke_refresh_of(user.id, now)
            after = uow.access.user_by_id(user.id)
            assert after is not None
            uow.audit.add(
                AuditEntry(
                    now, actor, "user.grant" if add else "user.revoke", f"user:{username}",
                    None if grant.site == ALL_SITES else grant.site,
                    _user_view(user), _user_view(after),
                )
            )  # fmt: skip
        uow.commit()
    return changed


def list_users(new_uow: Callable[[], AccessUnitOfWork]) -> list[UserRecord]:
    with new_uow() as uow:
        return uow.access.users()


def login(
    new_uow: Callable[[], AccessUnitOfWork],
    creds: Credentials,
    tokens: AccessTokens,
    username: str,
    password: str,
    now: datetime,
    policy: LoginPolicy,
) -> Session:
    """An access token and a new refresh-token family, or NotAuthenticated / TryLater."""
    with new_uow() as uow:
        user = uow.access.user(username)
        if user is not None and user.locked_until is not None and user.locked_until > now:
            wait = (user.locked_until - now).total_seconds()
            locked = user.failed_logins >= policy.max_failures
            raise TryLater(
                "this account is locked after repeated failed logins; try again later"
                if locked
                else "too many failed logins for this account; wait before trying again",
                wait,
            )
        ok = creds.verify_password(user.password_hash if user else None, password)
        if user is None or not ok:
            if user is not None:
                failures = user.failed_logins + 1
                wait = (
                    policy.lockout_s
                    if failures >= policy.max_failures
                    else min(2.0 ** (failures - 1), policy.backoff_max_s)
                )
                uow.access.update_user(
                    user.id, now, failed_logins=failures, locked_until=now + timedelta(seconds=wait)
                )
                if failures == policy.max_failures:
                    uow.audit.add(AuditEntry(now, "system", "user.locked", f"user:{username}"))
                uow.commit()
            raise NotAuthenticated("wrong username or password")
        if user.disabled:
            raise NotAuthenticated("this account is disabled")
        if user.failed_logins or user.locked_until:
            uow.access.update_user(user.id, now, failed_logins=0, locked_until=None)
        session = _new_session(uow, creds, tokens, user, None, now, policy)
        uow.commit()
    return session


def _new_session(
    uow: AccessUnitOfWork,
    creds: Credentials,
    tokens: AccessTokens,
    user: UserRecord,
    family: str | None,
    now: datetime,
    policy: LoginPolicy,
) -> Session:
    token_id, secret = creds.random_id(16), creds.random_secret()
    record = RefreshRecord(
        token_id, family or token_id, user.id, creds.digest(secret), now + policy.refresh_ttl,
        None, None,
    )  # fmt: skip
    uow.access.add_refresh(record, now)
    return Session(
        tokens.issue(user.id, user.username, user.grants, now),
        int(tokens.ttl.total_seconds()),
        f"{REFRESH_PREFIX}{token_id}.{secret}",
        user,
    )


def _split(token: str, prefix: str) -> tuple[str, str] | None:
    if not token.startswith(prefix):
        return None
    token_id, dot, secret = token[len(prefix) :].partition(".")
    if not dot or not token_id or not secret or len(token) > 200:
        return None
    return token_id, secret


def refresh(
    new_uow: Callable[[], AccessUnitOfWork],
    creds: Credentials,
    tokens: AccessTokens,
    refresh_token: str,
    now: datetime,
    policy: LoginPolicy,
) -> Session:
    """Rotate a refresh token: a new access token and the family's next member. A member that
    was already rotated revokes the whole family: someone is replaying it."""
    parts = _split(refresh_token, REFRESH_PREFIX)
    invalid = NotAuthenticated("the refresh token is not valid; log in again")
    if parts is None:
        raise invalid
    with new_uow() as uow:
        record = uow.access.refresh(parts[0])
        if record is None or not creds.same_digest(parts[1], record.secret_hash):
            raise invalid
        if record.revoked_at is not None or record.expires_at <= now:
            raise invalid
        if record.rotated_at is not None or not uow.access.rotate(record.id, now):
            uow.access.revoke_family(record.family, now)
            uow.audit.add(
                AuditEntry(now, "system", "token.reuse", f"user-id:{record.user_id}", None,
                           None, {"family": record.family})
            )  # fmt: skip
            uow.commit()
            raise NotAuthenticated(
                "this refresh token was used already; every session it belongs to is ended"
            )
        user = uow.access.user_by_id(record.user_id)
        if user is None or user.disabled:
            raise invalid
        session = _new_session(uow, creds, tokens, user, record.family, now, policy)
        uow.commit()
    return session


def logout(
    new_uow: Callable[[], AccessUnitOfWork], creds: Credentials, refresh_token: str, now: datetime
) -> None:
    """End the refresh token's family (an unknown token ends nothing and is not an error)."""
    parts = _split(refresh_token, REFRESH_PREFIX)
    if parts is None:
        return
    with new_uow() as uow:
        record = uow.access.refresh(parts[0])
        if record is not None and creds.same_digest(parts[1], record.secret_hash):
            uow.access.revoke_family(record.family, now)
            uow.commit()


# API keys


def create_api_key(
    new_uow: Callable[[], AccessUnitOfWork],
    creds: Credentials,
    name: str,
    grants: tuple[Grant, ...],
    expires_at: datetime | None,
    actor: str,
    now: datetime,
) -> tuple[ApiKeyRecord, str]:
    """A new key and its secret form (shown once: only its digest is kept)."""
    if not grants:
        raise AccessRule("an API key needs at least one grant (ROLE@SITE)", field="grants")
    if not name or len(name) > 100:
        raise AccessRule("a key's name is 1-100 characters", field="name")
    if expires_at is not None and expires_at <= now:
        raise AccessRule("the expiry is in the past", field="expires_at")
    key_id, secret = creds.random_id(8), creds.random_secret()
    record = ApiKeyRecord(
        key_id, name, creds.digest(secret), grants, actor, now, expires_at, None, None
    )
    with new_uow() as uow:
        uow.access.add_key(record)
        uow.audit.add(
            AuditEntry(now, actor, "api_key.create", f"api_key:{key_id}", None, None,
                       {"name": name, "grants": [f"{g.role.value}@{g.site}" for g in grants],
                        "expires_at": expires_at})
        )  # fmt: skip
        uow.commit()
    return record, f"{KEY_PREFIX}{key_id}.{secret}"


def revoke_api_key(
    new_uow: Callable[[], AccessUnitOfWork], key_id: str, actor: str, now: datetime
) -> None:
    with new_uow() as uow:
        key = uow.access.key(key_id)
        if key is None:
            raise NotFound(f"no API key {key_id!r}", field="key_id")
        if key.revoked_at is None:
            uow.access.update_key(key_id, revoked_at=now)
            uow.audit.add(AuditEntry(now, actor, "api_key.revoke", f"api_key:{key_id}"))
            uow.commit()


def list_api_keys(new_uow: Callable[[], AccessUnitOfWork]) -> list[ApiKeyRecord]:
    with new_uow() as uow:
        return uow.access.keys()


#: How often a key's last-used time is written at most (it is read on every request).
TOUCH_EVERY = timedelta(seconds=60)


def principal_of_key(
    new_uow: Callable[[], AccessUnitOfWork], creds: Credentials, presented: str, now: datetime
) -> tuple[Principal, datetime | None]:
    """Who an API key is, and when it expires; NotAuthenticated if it is unknown, revoked or
    expired."""
    parts = _split(presented, KEY_PREFIX)
    if parts is None:
        raise NotAuthenticated("the API key is not valid")
    with new_uow() as uow:
        key = uow.access.key(parts[0])
        if key is None or not creds.same_digest(parts[1], key.secret_hash):
            raise NotAuthenticated("the API key is not valid")
        if key.revoked_at is not None:
            raise NotAuthenticated("the API key has been revoked")
        if key.expires_at is not None and key.expires_at <= now:
            raise NotAuthenticated("the API key has expired")
        if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
            uow.access.update_key(key.id, last_used_at=now)
            uow.commit()
    return Principal("key", key.id, key.name, key.grants), key.expires_at


def admin_grant() -> Grant:
    """What the first admin is given."""
    return Grant(Role.ADMIN, ALL_SITES)
