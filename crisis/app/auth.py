"""Who is calling: a bearer token (API) or the signed session cookie (web), and CSRF."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from prometheus_client import CollectorRegistry, Counter
from sqlmodel import col, delete, func, select

from crisis import accounts, journal
from crisis.accounts import LoginFailure, User
from crisis.actors import Actor
from crisis.app.clock import Clock
from crisis.app.db import Database
from crisis.app.settings import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

logger = logging.getLogger(__name__)


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DbDep = Annotated[Database, Depends(get_db)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _csrf_ok(request: Request, given: str | None) -> bool:
    expected = request.session.get("csrf")
    return isinstance(expected, str) and bool(given) and hmac.compare_digest(expected, given or "")


async def _journal_auth_refusal(request: Request, action: str, **payload: object) -> None:
    db = get_db(request)
    async with db.transaction() as session:
        await journal.append(
            session,
            actor=Actor(None, "anonyme", frozenset()),
            action=action,
            now=get_clock(request).now(),
            payload={"path": request.url.path, "client": _client(request), **payload},
        )


def auth_refusals(registry: CollectorRegistry) -> Counter:
    """Refused credentials, counted: a loop of bad tokens must not grow the chained journal."""
    return Counter(
        "tocsin_auth_refusals_total",
        "Authentifications refusées, par motif",
        ["reason"],
        registry=registry,
    )


def _count_token_refusal(request: Request) -> None:
    request.app.state.auth_refusals.labels(reason="token").inc()
    logger.warning(
        "Jeton d'API refusé", extra={"path": request.url.path, "client": _client(request)}
    )


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _session_user(request: Request, db: Database) -> User | None:
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    async with db.read() as session:
        user = await session.get(User, uid)
    if user is None or not user.active:
        request.session.clear()
        return None
    return user


async def current_actor(request: Request, db: DbDep) -> Actor:
    """Authenticate by bearer token, else by session (with CSRF on unsafe methods)."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        user = None
        if scheme.lower() == "bearer" and token:
            async with db.read() as session:
                user = await accounts.user_for_token(session, token=token.strip())
        if user is None:
            _count_token_refusal(request)
            raise HTTPException(401, "Jeton d'API invalide, révoqué ou expiré.")
    else:
        user = await _session_user(request, db)
        if user is None:
            raise HTTPException(401, "Authentification requise.")
        api_write = request.method in UNSAFE_METHODS and request.url.path.startswith("/api/")
        if api_write and not _csrf_ok(request, request.headers.get(CSRF_HEADER)):
            await _journal_auth_refusal(request, "auth.csrf_refused", login=user.login)
            raise HTTPException(403, "Jeton CSRF absent ou invalide.")
    actor = user.actor()
    request.state.actor = actor
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


async def require_csrf_form(request: Request) -> None:
    """For web forms: the hidden `csrf_token` field must match the session's."""
    form = await request.form()
    given = form.get(CSRF_FIELD)
    if not _csrf_ok(request, given if isinstance(given, str) else None):
        await _journal_auth_refusal(request, "auth.csrf_refused")
        raise HTTPException(403, "Jeton CSRF absent ou invalide : rechargez la page.")


CsrfChecked = Depends(require_csrf_form)


async def login(
    request: Request, db: Database, clock: Clock, settings: Settings, *, login: str, password: str
) -> User | None:
    """Check a login, with throttling across instances; journal every failure."""
    now = clock.now()
    window_start = now - timedelta(seconds=settings.login_window_seconds)
    async with db.transaction() as session:
        failures = (
            await session.exec(
                select(func.count())
                .select_from(LoginFailure)
                .where(LoginFailure.login == login, col(LoginFailure.at) >= window_start)
            )
        ).one()
        if failures >= settings.login_max_failures:
            await journal.append(
                session,
                actor=Actor(None, "anonyme", frozenset()),
                action="auth.login_throttled",
                now=now,
                payload={"login": login, "client": _client(request)},
            )
            raise HTTPException(429, "Trop de tentatives : réessayez dans quelques minutes.")
        user = await accounts.user_by_login(session, login=login)
        if accounts.password_matches(user, password) and user is not None and user.active:
            await session.exec(delete(LoginFailure).where(col(LoginFailure.login) == login))
            await journal.append(
                session,
                actor=user.actor(),
                action="auth.login",
                now=now,
                payload={"client": _client(request)},
            )
            return user
        session.add(LoginFailure(login=login, at=now))
        await journal.append(
            session,
            actor=Actor(None, "anonyme", frozenset()),
            action="auth.login_failed",
            now=now,
            payload={"login": login, "client": _client(request)},
        )
    return None


def start_session(request: Request, user: User) -> None:
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)
