"""Every error leaves as the contract's envelope; refusals are journaled."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from crisis import journal
from crisis.actors import Actor
from crisis.cell.crises import Crisis
from crisis.dispatch.transactions import is_locked
from crisis.errors import DomainError

log = logging.getLogger("tocsin.errors")
_CRISIS_IN_PATH = re.compile(r"/crises/(\d+)")

_HTTP_MESSAGES = {
    400: "Requête invalide.",
    401: "Authentification requise.",
    403: "Action non autorisée.",
    404: "Ressource introuvable.",
    405: "Méthode non autorisée.",
    409: "Conflit avec l'état actuel.",
    413: "Requête trop volumineuse.",
    422: "Données invalides.",
    429: "Trop de tentatives : réessayez plus tard.",
}
_FOREIGN_DETAILS = {
    # FastAPI's own words when a body cannot be read at all (bytes that are not UTF-8)
    "There was an error parsing the body": "Corps de la requête illisible : JSON en UTF-8 attendu.",
}
_HTTP_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


def envelope(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}}, status_code=status
    )


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path == "/public/bulletins" or path.startswith("/public/bulletins/"):
        return True  # the public pages are pages; the feed and the CAP files are not
    return not path.startswith(("/api/", "/public/", "/healthz", "/readyz", "/metrics"))


async def journal_refusal(request: Request, *, code: str, message: str, status: int) -> None:
    """Record a refused action in its own transaction (the action's one rolled back)."""
    actor: Actor = getattr(request.state, "actor", None) or Actor(None, "anonyme", frozenset())
    match = _CRISIS_IN_PATH.search(request.url.path)
    crisis_id = int(match.group(1)) if match else None
    db = request.app.state.db
    payload = {
        "code": code,
        "message": message,
        "status": status,
        "method": request.method,
        "path": request.url.path,
        "client": request.client.host if request.client else None,
    }
    try:
        async with db.transaction() as session:
            if crisis_id is not None and not await _crisis_exists(session, crisis_id):
                crisis_id = None
            await journal.append(
                session,
                actor=actor if actor.user_id else Actor(None, actor.login, frozenset()),
                action="refused",
                now=request.app.state.clock.now(),
                crisis_id=crisis_id,
                payload=payload,
            )
    except SQLAlchemyError:  # the refusal itself must still reach the user
        log.exception("could not journal a refusal")


async def _crisis_exists(session: AsyncSession, crisis_id: int) -> bool:
    return await session.get(Crisis, crisis_id) is not None


def _render_error(request: Request, status: int, message: str) -> Response:
    templates = request.app.state.templates
    if request.url.path.startswith("/public/"):  # the public pages' own frame, no session
        html = templates.get_template("public/error.html").render(
            status=status, message=message, suffix="", exercise=False, cip_number=None
        )
        return HTMLResponse(html, status_code=status)
    response: Response = templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )
    return response


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if exc.journaled:
        await journal_refusal(request, code=exc.code, message=exc.message, status=exc.status)
    if _wants_html(request):
        return _render_error(request, exc.status, exc.message)
    return envelope(exc.status, exc.code, exc.message, exc.details)


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    if _wants_html(request):
        return _render_error(request, 422, "Formulaire invalide.")
    return envelope(422, "validation_error", "Données invalides.", details)


def _allowed_methods(request: Request) -> str:
    """Every method some route of this path answers (Starlette names only the first route's)."""
    methods: set[str] = set()
    routes = list(request.app.router.routes)
    while routes:
        route = routes.pop()
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if included is not None:
            routes += included.routes
            continue
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 303 and exc.headers:  # a page that must be seen first
        return Response(status_code=303, headers=exc.headers)
    given = isinstance(exc.detail, str) and exc.detail != HTTPStatus(status).phrase
    message = exc.detail if given else _HTTP_MESSAGES.get(status, HTTPStatus(status).phrase)
    message = _FOREIGN_DETAILS.get(message, message)
    headers = dict(exc.headers or {})
    if status == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        message = f"Méthode {request.method} non autorisée ici : {headers['Allow']}."
    if status == 401 and _wants_html(request):
        return Response(status_code=303, headers={"Location": "/connexion"})
    if _wants_html(request):
        response = _render_error(request, status, message)
    else:
        response = envelope(status, _HTTP_CODES.get(status, "http_error"), message)
    response.headers.update(headers)
    if status == 401 and not _wants_html(request):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


OVERLOADED_RETRY_SECONDS = 5


async def overloaded(request: Request, exc: Exception) -> Response:
    """No database connection came free within the pool's wait, or SQLite's write lock within
    its busy timeout: the service is saturated. A 503 with `Retry-After` (a client or a load
    balancer tries again), not a 500; any other operational error stays a 500."""
    if isinstance(exc, OperationalError) and not is_locked(exc):
        raise exc
    message = "Service momentanément surchargé : réessayez dans quelques secondes."
    if _wants_html(request):
        response = _render_error(request, 503, message)
    else:
        response = envelope(503, "overloaded", message)
    response.headers["Retry-After"] = str(OVERLOADED_RETRY_SECONDS)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(PoolTimeout, overloaded)
    app.add_exception_handler(OperationalError, overloaded)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
