"""Every error as RFC 9457 problem details (``application/problem+json``), naming the field.

The one place errors become HTTP statuses: domain errors by their kind, invalid requests as 422
listing every bad field, an unreachable or exhausted database as 503 with ``Retry-After``, a
value the database cannot store as 422, and anything unexpected as a 500 that carries an error
id (logged with the traceback) and nothing else.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, DBAPIError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from warehouse.core.errors import (
    Conflict,
    DeviceUnreachable,
    DomainError,
    Forbidden,
    InsufficientStock,
    InvalidCursor,
    NotAuthenticated,
    NotFound,
    RuleViolation,
    TryLater,
)
from warehouse.core.failures import classify

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
PROBLEMS = "https://warehouse.invalid/problems/"


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
    error_id: str | None = Field(None, description="For a 500: quote it to the operators")


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": text}
    for code, text in (
        (400, "Bad request"),
        (401, "No credentials, or credentials that are wrong, expired or revoked"),
        (403, "Your roles do not allow this here"),
        (404, "Not found"),
        (409, "Conflict"),
        (413, "Request body too large"),
        (422, "Invalid request"),
        (429, "Too many requests; retry after the Retry-After seconds"),
        (503, "Database unavailable or busy; retry after the Retry-After seconds"),
    )
}

_DOMAIN = [
    (InsufficientStock, 409, "insufficient-stock", "Insufficient stock"),
    (NotFound, 404, "not-found", "Not found"),
    (Conflict, 409, "conflict", "Conflict"),
    (InvalidCursor, 400, "invalid-cursor", "Invalid cursor"),
    (DeviceUnreachable, 503, "device-unreachable", "Device unreachable"),
]

_HTTP_SLUGS = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    field: str | None = None,
    errors: list[FieldError] | None = None,
    *,
    headers: dict[str, str] | None = None,
    error_id: str | None = None,
) -> JSONResponse:
    """A problem response."""
    body = Problem(
        type=PROBLEMS + slug,
        title=title,
        status=status,
        detail=detail,
        field=field,
        errors=errors or [],
        error_id=error_id,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def domain_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, NotAuthenticated):
        return problem(
            401, "not-authenticated", "Not authenticated", exc.message,
            headers={"WWW-Authenticate": 'Bearer realm="warehouse"'},
        )  # fmt: skip
    if isinstance(exc, Forbidden):
        return problem(403, "forbidden", "Forbidden", exc.message, exc.field)
    if isinstance(exc, TryLater):
        return problem(
            429, "too-many-requests", "Too many requests", exc.message,
            headers={"Retry-After": str(exc.retry_after)},
        )  # fmt: skip
    for kind, status, slug, title in _DOMAIN:
        if isinstance(exc, kind):
            return problem(status, slug, title, exc.message, exc.field)
    if isinstance(exc, RuleViolation):  # each family of rules its own type and title
        return problem(422, exc.slug, exc.title, exc.message, exc.field)
    return problem(400, "domain-error", "Request refused", exc.message, exc.field)


def validation_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return _invalid_json(exc, err)
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:] if len(loc) > 1 else loc
        received = err.get("input")
        if isinstance(received, str) and len(received) > 200:
            received = received[:197] + "..."
        errors.append(
            FieldError(
                field=".".join(loc) or "body",
                message=err["msg"],
                received=received if isinstance(received, str | int | float | None) else None,
            )
        )
    first = errors[0] if errors else None
    detail = f"{first.field}: {first.message}" if first else "invalid request"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return problem(
        422, "invalid-request", "Invalid request", detail, first.field if first else None, errors
    )


def _invalid_json(exc: RequestValidationError, err: Any) -> JSONResponse:
    """A body that does not parse: where, by line and column; no field is named."""
    position = err["loc"][-1] if isinstance(err["loc"][-1], int) else 0
    text = exc.body if isinstance(exc.body, str) else ""
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    reason = (err.get("ctx") or {}).get("error", "")
    detail = f"the body is not valid JSON: {reason} at line {line}, column {column}".replace(
        ":  at", " at"
    )
    return problem(400, "invalid-json", "The body is not valid JSON", detail)


def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    slug = _HTTP_SLUGS.get(exc.status_code, "http-error")
    title = str(exc.detail)
    return problem(
        exc.status_code, slug, title, title, headers=dict(exc.headers) if exc.headers else None
    )


def _pool_timeout(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("no database connection came free in time: %s", exc)
    return problem(
        503,
        "database-busy",
        "Database busy",
        "every database connection is in use; retry shortly",
        headers={"Retry-After": "1"},
    )


def database_problem(request: Request, exc: Exception) -> JSONResponse:
    """A database error as problem details: 503 when it is down, out of date or busy, 422
    for a value it cannot hold, 500 otherwise."""
    kind = classify(exc)
    if kind == "unavailable":
        log.error("database unavailable: %s", exc)
        return problem(
            503,
            "database-unavailable",
            "Database unavailable",
            "the database did not answer; retry shortly",
            headers={"Retry-After": "5"},
        )
    if kind == "fatal":
        log.error("database schema missing or out of date: %s", exc)
        return problem(
            503,
            "schema-out-of-date",
            "Database schema missing or out of date",
            "the database has no schema or an old one: run `warehouse db upgrade`",
            headers={"Retry-After": "60"},
        )
    if kind == "retry":
        return problem(
            503,
            "database-busy",
            "Database busy",
            "the request met a concurrent one; retry it",
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, DataError):
        return problem(
            422,
            "unstorable-value",
            "A value cannot be stored",
            "a value in the request is out of the range or character set the database holds",
        )
    return _unexpected(request, exc)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    error_id = uuid.uuid4().hex[:12]
    log.error(
        "internal error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc
    )
    return problem(
        500,
        "internal-error",
        "Internal error",
        "the request failed unexpectedly; quote the error id to the operators",
        error_id=error_id,
    )


def install(app: FastAPI) -> None:
    """Register the handlers that map errors to problem details."""
    app.add_exception_handler(DomainError, domain_problem)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(PoolTimeout, _pool_timeout)
    app.add_exception_handler(DBAPIError, database_problem)
    app.add_exception_handler(StatementError, database_problem)
    app.add_exception_handler(Exception, _unexpected)
