"""Signing in: login, refresh, logout, and who the credentials name."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool

from warehouse.access.api.deps import ServiceDep
from warehouse.access.api.schemas import LoginIn, MeOut, RefreshIn, TokenOut
from warehouse.access.api.security import PrincipalDep, limiter_of, permission
from warehouse.access.service import accounts as access
from warehouse.core.api.permissions import public
from warehouse.core.errors import NotAuthenticated

router = APIRouter(prefix="/auth", tags=["auth"])


def _tokens(session: access.Session) -> TokenOut:
    return TokenOut(
        access_token=session.access_token,
        expires_in=session.expires_in,
        refresh_token=session.refresh_token,
    )


@router.post("/login", response_model=TokenOut, **public())
async def login(body: LoginIn, request: Request, service: ServiceDep) -> TokenOut:
    """Exchange a username and password for an access token (short-lived) and a refresh
    token. Failed logins back off, then lock the account; too many from one address are a 429."""
    limiter = limiter_of(request)
    address = limiter.client_address(request)
    await limiter.check(
        limiter.failed_logins, "login", address,
        message="too many failed logins from this address; wait before trying again",
    )  # fmt: skip
    assert service.tokens is not None
    try:
        session = await run_in_threadpool(
            access.login, service.uow, service.credentials, service.tokens, body.username,
            body.password, datetime.now(UTC), service.login_policy,
        )  # fmt: skip
    except NotAuthenticated:
        await limiter.hit(limiter.failed_logins, "login", address)
        raise
    return _tokens(session)


@router.post("/refresh", response_model=TokenOut, **public())
async def refresh(body: RefreshIn, service: ServiceDep) -> TokenOut:
    """A new access token and the next refresh token. A refresh token works once; presenting
    one that was already used ends every session of its family."""
    assert service.tokens is not None
    session = await run_in_threadpool(
        access.refresh, service.uow, service.credentials, service.tokens, body.refresh_token,
        datetime.now(UTC), service.login_policy,
    )  # fmt: skip
    return _tokens(session)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, **public())
async def logout(body: RefreshIn, service: ServiceDep) -> Response:
    """End the refresh token's family (its access tokens run out by themselves)."""
    await run_in_threadpool(
        access.logout, service.uow, service.credentials, body.refresh_token, datetime.now(UTC)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeOut, **permission("session"))
async def me(principal: PrincipalDep) -> MeOut:
    """Who the credentials name, and their grants."""
    return MeOut(
        kind="user" if principal.kind == "user" else "key",
        name=principal.name,
        grants=[f"{g.role.value}@{g.site}" for g in principal.grants],
    )
