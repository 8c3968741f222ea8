"""Request and response bodies of signing in and of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from warehouse.core.api.params import RequestBody, Storable, Text64


class LoginIn(RequestBody):
    """A username and password."""

    username: Text64 = Field(examples=["alice"])
    password: Annotated[str, Field(min_length=1, max_length=1024), Storable] = Field(
        examples=["correct horse battery staple"]
    )


class RefreshIn(RequestBody):
    """A refresh token from a login or the last refresh."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=200), Storable] = Field(
        examples=["whr_4f1c…"]
    )


class TokenOut(BaseModel):
    """An access token for ``Authorization: Bearer``, and the refresh token that renews it
    (each refresh token works once: keep the new one)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme's name, no secret
    expires_in: int = Field(description="seconds", examples=[900])
    refresh_token: str


class MeOut(BaseModel):
    """Who the credentials name."""

    kind: Literal["user", "key"]
    name: str = Field(examples=["alice"])
    grants: list[str] = Field(examples=[["manager@ST1", "staff@WH1"]])


class AuditOut(BaseModel):
    """One manual change."""

    id: int
    at: datetime
    actor: str = Field(examples=["user:alice"])
    action: str = Field(examples=["product.update"])
    target: str = Field(examples=["product:TEA-GRN"])
    site: str | None = Field(None, examples=["WH1"])
    before: dict[str, object] | list[object] | None = None
    after: dict[str, object] | list[object] | None = None


class AuditPage(BaseModel):
    """Audit entries, newest first."""

    items: list[AuditOut]
    next_cursor: str | None
