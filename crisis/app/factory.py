"""The FastAPI application, assembled from settings; no import-time globals."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware

from crisis.app import auth, errors, live
from crisis.app.api import bulletins as bulletins_api
from crisis.app.api import cip as cip_api
from crisis.app.api import cip_requests as cip_requests_api
from crisis.app.api import contacts as contacts_api
from crisis.app.api import coverage as coverage_api
from crisis.app.api import crises as crises_api
from crisis.app.api import exercise_edits as exercise_edits_api
from crisis.app.api import exercise_injects as exercise_injects_api
from crisis.app.api import exercises as exercises_api
from crisis.app.api import fr_alert as fr_alert_api
from crisis.app.api import geo as geo_api
from crisis.app.api import inbound as inbound_api
from crisis.app.api import lifecycle as lifecycle_api
from crisis.app.api import ops
from crisis.app.clock import Clock, SystemClock
from crisis.app.db import Database
from crisis.app.hostile_input import refuse_control_characters
from crisis.app.logs import register_secret
from crisis.app.middleware import BodyLimit, HttpMetrics, RequestContext
from crisis.app.secret_files import register_settings_secrets
from crisis.app.security_headers import SecurityHeaders
from crisis.app.session_checks import SessionChecks
from crisis.app.settings import Settings
from crisis.app.web import (
    account,
    assets,
    bulletin_composer,
    bulletin_tracking,
    channels_page,
    cip_console,
    cip_forms,
    cip_requests,
    coverage_pages,
    exercise_agenda,
    exercise_control_pages,
    exercise_edit_pages,
    exercise_feedback_pages,
    exercise_form,
    exercise_inject_pages,
    exercise_pages,
    exercise_report_pages,
    exercise_trend_pages,
    fr_alert_page,
    journal_pages,
    legal_pages,
    lifecycle_pages,
    login_pages,
    pages,
    playbook_pages,
    public_bulletins,
    public_feeds,
    roster_pages,
    users_admin,
)
from crisis.app.web import bulletins as bulletin_pages
from crisis.app.web import directory as directory_pages
from crisis.app.web.own_writes import OwnWrites, note_a_write
from crisis.app.web.public_fast_path import PublicFastPath
from crisis.app.web.templating import make_templates

log = logging.getLogger("tocsin")
UPLOAD_PATHS = ("/api/v1/contacts/import", "/annuaire/import")

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


ROUTERS = (
    ops.router,
    crises_api.router,
    lifecycle_api.router,
    cip_api.router,
    cip_requests_api.router,
    inbound_api.router,
    login_pages.router,
    pages.router,
    journal_pages.router,
    account.router,
    lifecycle_pages.router,
    playbook_pages.router,
    channels_page.router,
    contacts_api.router,
    geo_api.router,
    directory_pages.router,
    roster_pages.router,
    users_admin.router,
    bulletins_api.router,
    bulletin_composer.router,
    bulletin_pages.router,
    bulletin_tracking.router,
    fr_alert_api.router,
    fr_alert_page.router,
    coverage_pages.router,
    coverage_api.router,
    public_bulletins.router,
    public_feeds.router,
    legal_pages.router,
    exercises_api.router,
    exercise_injects_api.router,
    exercise_edits_api.router,
    exercise_form.router,  # before the drill page: « nouveau » is no drill number
    exercise_edit_pages.router,
    exercise_trend_pages.router,
    exercise_pages.router,
    exercise_inject_pages.router,
    exercise_report_pages.router,
    exercise_control_pages.router,
    exercise_agenda.router,
    exercise_feedback_pages.router,
    cip_console.router,
    cip_forms.router,
    cip_requests.pages,
    cip_requests.forms,
)


def _session_secret(settings: Settings) -> str:
    """The cookie key (random for this process when unset); every secret is masked in logs."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    if secret is None:
        log.warning("TOCSIN_SECRET_KEY absent : clé de session aléatoire pour ce processus")
        secret = secrets.token_urlsafe(48)
    register_secret(secret)
    register_settings_secrets(settings)
    return secret


def _lifespan(db: Database, *, owned: bool, background: Lifespan | None) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with live.listening(app.state.live, db) as listener:
            app.state.live_listener = listener
            if background is None:
                yield
            else:
                async with background(app):
                    yield
        if owned:
            await db.dispose()

    return lifespan


def _middleware(settings: Settings, registry: CollectorRegistry) -> list[Middleware]:
    def limit_for(path: str) -> int:
        return (
            settings.max_upload_bytes if path.startswith(UPLOAD_PATHS) else settings.max_body_bytes
        )

    return [
        Middleware(SecurityHeaders),
        Middleware(PublicFastPath, registry=registry),
        Middleware(RequestContext, metrics=HttpMetrics(registry)),
        Middleware(BodyLimit, limit_for=limit_for),
        Middleware(
            SessionMiddleware,
            secret_key=_session_secret(settings),
            session_cookie="tocsin_session",
            max_age=settings.session_max_age_seconds,
            same_site="lax",
            https_only=settings.cookie_secure,
        ),
        Middleware(OwnWrites, secure=settings.cookie_secure),
    ]


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    background: Lifespan | None = None,
    metrics_registry: CollectorRegistry | None = None,
) -> FastAPI:
    """Build the app. `background` runs beside it (scheduler, dispatcher) when given."""
    db = database or Database.from_settings(settings)
    registry = metrics_registry or CollectorRegistry()
    app = FastAPI(
        title="Tocsin",
        summary="Communication d'urgence de la préfecture : ES47, ES48, ES49, ES50.",
        version="0.1.0",
        lifespan=_lifespan(db, owned=database is None, background=background),
        docs_url="/api/docs",
        redoc_url=None,
        middleware=_middleware(settings, registry),
        dependencies=[Depends(refuse_control_characters)],
    )
    app.state.settings = settings
    app.state.db = db
    app.state.clock = clock or SystemClock()
    app.state.live = live.JournalSignal(tick_seconds=settings.tick_seconds)
    db.after_commit(app.state.live.wake)
    db.after_commit(note_a_write)
    app.state.session_checks = SessionChecks()
    app.state.session_checks.watch(db)
    app.state.templates = make_templates()
    app.state.metrics_registry = registry
    app.state.auth_refusals = auth.auth_refusals(registry)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(assets.router(assets.find_dsfr_dist(settings.dsfr_dir)))
    return app
