"""Operations: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import functools
import ssl

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crisis.app import checkpointing, migrate
from crisis.app.api.schemas import ErrorEnvelope
from crisis.app.auth import DbDep, SettingsDep

router = APIRouter(tags=["exploitation"])


@router.get("/healthz", summary="Le processus répond")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


_READINESS = {"type": "object", "additionalProperties": {"type": "string"}}


@router.get(
    "/readyz",
    summary="Base joignable et schéma à jour",
    responses={
        200: {"content": {"application/json": {"schema": _READINESS}}},
        503: {
            "description": "Base injoignable, migrations en retard ou processus d'envoi arrêté.",
            "content": {"application/json": {"schema": _READINESS}},
        },
    },
)
async def readyz(db: DbDep, settings: SettingsDep) -> JSONResponse:
    try:
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        current = await migrate.is_current(db.engine)
    except (SQLAlchemyError, OSError):
        return JSONResponse({"status": "unavailable", "database": "injoignable"}, status_code=503)
    if not current:
        return JSONResponse({"status": "unavailable", "database": "migrations en retard"}, 503)
    if not await _worker_answers(settings.worker_metrics_url):
        return JSONResponse({"status": "unavailable", "worker": "arrêté"}, 503)
    # Ready without checkpoints, but saying so: the journal is then not anchored outside.
    anchored = "actifs" if checkpointing.configured(settings) else "désactivés"
    return JSONResponse({"status": "ready", "database": db.dialect, "checkpoints": anchored})


@router.get(
    "/metrics",
    summary="Métriques Prometheus",
    response_class=PlainTextResponse,
    responses={404: {"model": ErrorEnvelope, "description": "Métriques non publiées."}},
)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    if not settings.metrics_public:
        raise HTTPException(404)
    registry = request.app.state.metrics_registry
    body = generate_latest(registry) + await _worker_metrics(settings.worker_metrics_url)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx loads the CA bundle again for each client made without one (20 ms of processor):
    the worker's probes, at every `/readyz` and scrape, share the one loaded at the first."""
    return httpx.create_ssl_context()


async def _worker_answers(url: str | None) -> bool:
    """The worker child of `tocsin serve` listens (its metrics port): refused means it is down
    (its supervisor starts it again); a slow answer under load still counts as alive."""
    if url is None:
        return True  # a web alone (`--web-only`): its workers run elsewhere
    try:
        async with httpx.AsyncClient(timeout=2.0, verify=_tls()) as client:
            await client.head(url)
    except httpx.ConnectError:
        return False
    except httpx.HTTPError:
        return True
    return True


async def _worker_metrics(url: str | None) -> bytes:
    """The worker's metrics (the dispatcher's), appended: one scrape sees web and sending
    (docs/operations.md). Their names differ from the web's, so the text stays one valid
    exposition; a worker that does not answer leaves a comment, not an error."""
    if url is None:
        return b""
    try:
        async with httpx.AsyncClient(timeout=2.0, verify=_tls()) as client:
            answer = await client.get(url)
            answer.raise_for_status()
    except httpx.HTTPError:
        return b"# worker metrics unavailable\n"
    return answer.content
