"""Who is calling: a bearer token (API) or a server-side session (web), and CSRF."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from prometheus_client import CollectorRegistry, Counter

from crisis import api_tokens, journal, logins, sessions
from crisis.actors import Actor
from crisis.app.clock import Clock
from crisis.app.db import Database
from crisis.app.session_checks import session_checks
from crisis.app.settings import Settings
from crisis.users import User

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


# FastAPI runs a plain `def` dependency in its thread pool: one thread hand-off per
# dependency per request. These read an attribute, so their dependency forms are `async`.
async def _db_dependency(request: Request) -> Database:
    return get_db(request)


async def _clock_dependency(request: Request) -> Clock:
    return get_clock(request)


async def _settings_dependency(request: Request) -> Settings:
    return get_settings(request)


DbDep = Annotated[Database, Depends(_db_dependency)]
ClockDep = Annotated[Clock, Depends(_clock_dependency)]
SettingsDep = Annotated[Settings, Depends(_settings_dependency)]


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


def session_policy(settings: Settings) -> sessions.SessionPolicy:
    return sessions.SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(seconds=settings.session_max_age_seconds),
    )


def throttle_policy(settings: Settings) -> logins.ThrottlePolicy:
    return logins.ThrottlePolicy(
        free_attempts=settings.login_max_failures,
        first_delay=timedelta(seconds=settings.login_first_delay_seconds),
        max_delay=timedelta(seconds=settings.login_max_delay_seconds),
        window=timedelta(seconds=settings.login_window_seconds),
    )


async def _touch(request: Request, db: Database, session_id: int, now: datetime) -> None:
    """Moves the session's last request (its idle deadline). Its other requests meanwhile do
    not queue a write of their own: under load, behind the CIP's saves, each of a person's
    page requests waited for its own."""
    touching: set[int] | None = getattr(request.app.state, "touching_sessions", None)
    if touching is None:
        touching = request.app.state.touching_sessions = set()
    if session_id in touching:
        return
    touching.add(session_id)
    try:
        async with db.transaction() as session:
            await sessions.touch(session, session_id=session_id, now=now)
    finally:
        touching.discard(session_id)


async def _session_viewer(request: Request, db: Database) -> sessions.Viewer | None:
    """Who the server-side session the cookie names is, if it is still alive (a request that
    only reads may reuse the check of the past second: `session_checks`)."""
    token = request.session.get("sid")
    if not isinstance(token, str):
        return None
    now = get_clock(request).now()
    policy = session_policy(get_settings(request))
    checks = session_checks(request.app)
    viewer = await checks.viewer(request, db, token, now=now, policy=policy)
    if viewer is None:
        request.session.clear()
        return None
    if sessions.needs_touch(viewer.last_seen_at, now=now, policy=policy):
        checks.forget(token)
        await _touch(request, db, viewer.session_id, now)
    request.state.session_id = viewer.session_id
    # Any head this process read is committed: a page rendered from now on shows it.
    request.state.journal_head = max(viewer.journal_head, checks.latest_head)
    return viewer


PASSWORD_PAGE = "/mon-compte/mot-de-passe"  # noqa: S105 - a path, not a secret


async def _bearer_actor(request: Request, db: Database, header: str) -> Actor:
    scheme, _, token = header.partition(" ")
    actor = None
    if scheme.lower() == "bearer" and token:
        async with db.read_rows() as conn:
            actor = await api_tokens.actor_for_token(conn, token=token.strip())
    if actor is None:
        _count_token_refusal(request)
        raise HTTPException(401, "Jeton d'API invalide, révoqué ou expiré.")
    return actor


async def _authenticate(request: Request, db: Database, *, pending_ok: bool) -> Actor:
    header = request.headers.get("authorization", "")
    if header:
        actor = await _bearer_actor(request, db, header)
        request.state.actor = actor
        return actor
    viewer = await _session_viewer(request, db)
    if viewer is None:
        raise HTTPException(401, "Authentification requise.")
    request.state.actor = viewer.actor
    api_write = request.method in UNSAFE_METHODS and request.url.path.startswith("/api/")
    if api_write and not _csrf_ok(request, request.headers.get(CSRF_HEADER)):
        await _journal_auth_refusal(request, "auth.csrf_refused", login=viewer.actor.login)
        raise HTTPException(403, "Jeton CSRF absent ou invalide.")
    if viewer.must_change_password and not pending_ok:
        if request.url.path.startswith("/api/"):
            raise HTTPException(
                403, "Choisissez d'abord votre mot de passe : celui reçu était à usage unique."
            )
        raise HTTPException(303, headers={"Location": PASSWORD_PAGE})
    return viewer.actor


async def current_actor(request: Request, db: DbDep) -> Actor:
    """Authenticate by bearer token, else by session (with CSRF on unsafe methods).

    A session opened with a one-time password reaches nothing but the password page.
    """
    return await _authenticate(request, db, pending_ok=False)


async def pending_actor(request: Request, db: DbDep) -> Actor:
    """As `current_actor`, also while a one-time password awaits its replacement."""
    return await _authenticate(request, db, pending_ok=True)


CurrentActor = Annotated[Actor, Depends(current_actor)]
PendingActor = Annotated[Actor, Depends(pending_actor)]


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
) -> logins.Outcome:
    """Check a password (throttled per login and address); open a session on success.

    Each failure is logged and counted, not chained in the journal.
    """
    client = _client(request)
    now, policy = clock.now(), throttle_policy(settings)
    async with db.read() as session:  # no connection held while the password is hashed
        check = await logins.before_check(
            session, login=login, client=client, now=now, policy=policy
        )
    outcome = check.refused
    if outcome is None:
        verified = await logins.verified(check, password)
        async with db.transaction() as session:
            outcome = await logins.after_check(
                session,
                login=login,
                client=client,
                check=check,
                verified=verified,
                now=now,
                policy=policy,
            )
            if outcome.user is not None and outcome.user.id is not None:
                _, token = await sessions.open_session(
                    session,
                    user_id=outcome.user.id,
                    now=clock.now(),
                    client=client,
                    user_agent=request.headers.get("user-agent", ""),
                )
                _start_session(request, token)
    if outcome.user is None:
        reason = "throttled" if outcome.throttled else "password"
        request.app.state.auth_refusals.labels(reason=reason).inc()
        logger.warning(
            "Connexion refusée",
            extra={"login": login, "client": client, "reason": reason},
        )
    return outcome


def _start_session(request: Request, token: str) -> None:
    request.session.clear()
    request.session["sid"] = token
    request.session["csrf"] = secrets.token_urlsafe(32)


async def logout(request: Request, db: Database, clock: Clock) -> None:
    """End the server-side session: its cookie, even replayed, opens nothing any more."""
    token = request.session.get("sid")
    request.session.clear()
    if not isinstance(token, str):
        return
    policy = session_policy(get_settings(request))
    async with db.transaction() as session:
        row = await sessions.find(session, token=token, now=clock.now(), policy=policy)
        if row is None or row.id is None:
            return
        await sessions.end(session, session_id=row.id, now=clock.now())
        user = await session.get(User, row.user_id)
        if user is not None:
            await journal.append(
                session,
                actor=user.actor(),
                action="auth.logout",
                now=clock.now(),
                payload={"session_id": row.id},
            )
