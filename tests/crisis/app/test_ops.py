from __future__ import annotations

import httpx

from crisis.app.db import Database
from tests.support import FrozenClock


async def test_health_and_readiness_need_no_authentication(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    text = (await client.get("/metrics")).text
    assert 'tocsin_http_requests_total{method="GET",route="/healthz",status="200"}' in text


async def test_every_response_carries_a_request_id_and_keeps_a_sane_given_one(
    client: httpx.AsyncClient,
) -> None:
    assert len((await client.get("/healthz")).headers["x-request-id"]) == 32
    given = await client.get("/healthz", headers={"X-Request-ID": "cod-80.42"})
    assert given.headers["x-request-id"] == "cod-80.42"
    hostile = await client.get("/healthz", headers={"X-Request-ID": "a b<script>"})
    assert hostile.headers["x-request-id"] != "a b<script>"


async def test_the_openapi_document_lists_the_crisis_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/api/v1/crises" in paths and "/api/v1/crises/{crisis_id}/journal" in paths


async def test_only_the_dsfr_files_in_use_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/static/dsfr/dsfr.min.css")).status_code == 200
    assert (await client.get("/static/dsfr/dsfr.css")).status_code == 404
    assert (await client.get("/static/dsfr/../../package.json")).status_code == 404
    assert (await client.get("/static/tocsin/tocsin.css")).status_code == 200


async def test_readiness_fails_when_migrations_are_behind(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    import sqlalchemy as sa

    async with db.engine.begin() as conn:
        (version,) = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).one()
        await conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ancienne'"))
    try:
        answer = await client.get("/readyz")
        assert answer.status_code == 503
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(
                sa.text("UPDATE alembic_version SET version_num = :v"), {"v": version}
            )
