"""Every error as RFC 9457 problem details (``application/problem+json``), naming the field."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from warehouse.domain.errors import (
    Conflict,
    DomainError,
    InsufficientStock,
    NotFound,
    RuleViolation,
)

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One invalid input."""

    field: str = Field(examples=["qty"])
    message: str = Field(examples=["Input should be greater than 0"])
    received: Any = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(
        "about:blank", examples=["https://warehouse.invalid/problems/insufficient-stock"]
    )
    title: str = Field(examples=["Insufficient stock"])
    status: int = Field(examples=[409])
    detail: str = Field(examples=["SKU-1 at WH1-A-01: 2 on hand, 5 requested"])
    field: str | None = Field(None, examples=["qty"])
    errors: list[FieldError] = Field(default_factory=list)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": text}
    for code, text in ((404, "Not found"), (409, "Conflict"), (422, "Invalid request"))
}

_DOMAIN = [
    (InsufficientStock, 409, "insufficient-stock", "Insufficient stock"),
    (NotFound, 404, "not-found", "Not found"),
    (Conflict, 409, "conflict", "Conflict"),
    (RuleViolation, 422, "rule-violation", "The request breaks a stock rule"),
]


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    field: str | None = None,
    errors: list[FieldError] | None = None,
) -> JSONResponse:
    """A problem response."""
    body = Problem(
        type=f"https://warehouse.invalid/problems/{slug}",
        title=title,
        status=status,
        detail=detail,
        field=field,
        errors=errors or [],
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True), status_code=status, media_type=MEDIA_TYPE
    )


def _domain(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    for kind, status, slug, title in _DOMAIN:
        if isinstance(exc, kind):
            return problem(status, slug, title, exc.message, exc.field)
    return problem(400, "domain-error", "Request refused", exc.message, exc.field)


def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:] if len(loc) > 1 else loc
        received = err.get("input")
        errors.append(
            FieldError(
                field=".".join(loc) or "body",
                message=err["msg"],
                received=received if isinstance(received, str | int | float | None) else None,
            )
        )
    first = errors[0] if errors else None
    detail = f"{first.field}: {first.message}" if first else "invalid request"
    return problem(
        422, "invalid-request", "Invalid request", detail, first.field if first else None, errors
    )


def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, "http-error", str(exc.detail), str(exc.detail))


def _database(_request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable: %s", exc)
    return problem(
        503,
        "database-unavailable",
        "Database unavailable",
        "the database did not answer; retry shortly",
    )


def install(app: FastAPI) -> None:
    """Register the handlers that map errors to problem details."""
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(OperationalError, _database)
