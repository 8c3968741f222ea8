"""Errors on pages answered as pages: 401 is the sign-in form (then back to the page), the rest a
short page that says what was refused and why. The JSON API keeps its problem details."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from warehouse.core.api import problems
from warehouse.core.errors import DomainError, NotAuthenticated, TryLater
from warehouse.web.api import counting, floor, pages, product, store
from warehouse.web.api.pages import safe_next, sign_in_form
from warehouse.web.api.render import STATIC, is_page, page

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
    app.include_router(pages.router)
    app.include_router(floor.router)
    app.include_router(product.router)
    app.include_router(store.router)
    app.include_router(counting.router)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
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


def _error(request: Request, status: int, title: str, message: str) -> Response:
    context = {"status": status, "title": title, "message": message}
    return page(request, "error.html", context, status=status)
