"""Errors on pages answered as pages: 401 is the sign-in form (then back to the page), the rest a
short page that says what was refused and why. The JSON API keeps its problem details."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError, StatementError

from warehouse.core.api import problems
from warehouse.core.errors import DomainError, NotAuthenticated, TryLater
from warehouse.web.api import counting, floor, pages, product, store
from warehouse.web.api.pages import safe_next, sign_in_form
from warehouse.web.api.render import STATIC, is_page, page

#: What every page may answer besides its own page: a redirect after a form, and the error
#: pages (401 is the sign-in form).
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    303: {"description": "Done: on to the next page (after a form; no body)"}
}
PAGE_RESPONSES |= {
    code: {"content": {"text/html": {}}, "description": text}
    for code, text in (
        (400, "Not understood"),
        (401, "Not signed in, or the session ended: the sign-in form"),
        (403, "Not allowed here, or a form without this session's CSRF token"),
        (404, "Not found"),
        (409, "Already done, or not possible now"),
        (422, "A field of the form or the address is not valid"),
        (429, "Too many attempts; retry after the Retry-After seconds"),
    )
}
PAGE_RESPONSES |= {  # answered before or beside the page's own handling: problem details
    code: {"content": {problems.MEDIA_TYPE: {}}, "description": text}
    for code, text in ((413, "Request body too large"), (503, "Database unavailable or busy"))
}

TITLES = {
    400: "Not understood",
    403: "Not allowed",
    404: "Not found",
    409: "Already done, or not possible now",
    422: "Check the form",
}


def install(app: FastAPI) -> None:
    """The pages, their error handlers (after ``problems.install``) and the static assets at
    /static."""
    for router in (pages.router, floor.router, product.router, store.router, counting.router):
        app.include_router(router, responses=PAGE_RESPONSES)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(StatementError, _database)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def _domain(request: Request, exc: Exception) -> Response:
    if not is_page(request):
        return problems.domain_problem(request, exc)
    assert isinstance(exc, DomainError)
    if isinstance(exc, NotAuthenticated):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return sign_in_form(request, safe_next(here), exc.message, 401)
    if isinstance(exc, TryLater):
        response = _error(request, 429, "Slow down", exc.message)
        response.headers["Retry-After"] = str(int(exc.retry_after))
        return response
    status = problems.domain_problem(request, exc).status_code  # the API's status for it
    return _error(request, status, TITLES.get(status, "Refused"), exc.message)


def _validation(request: Request, exc: Exception) -> Response:
    if not is_page(request):
        return problems.validation_problem(request, exc)
    assert isinstance(exc, RequestValidationError)
    details = [
        f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', '')}"
        for e in exc.errors()[:5]
    ]
    return _error(request, 422, TITLES[422], "; ".join(details))


def _database(request: Request, exc: Exception) -> Response:
    """A value the database cannot hold (a NUL in a field) is the form's to fix: a page; the
    database down or busy stays problem details (503 with Retry-After), as PAGE_RESPONSES says."""
    answer = problems.database_problem(request, exc)
    if not is_page(request) or answer.status_code != 422:
        return answer
    message = "a value in the form is out of the range or character set the database holds"
    return _error(request, 422, TITLES[422], message)


def _error(request: Request, status: int, title: str, message: str) -> Response:
    context = {"status": status, "title": title, "message": message}
    return page(request, "error.html", context, status=status)
