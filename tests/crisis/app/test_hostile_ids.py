"""Ids beyond what a database column holds are refused with a reason, never a server error."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi.routing import APIRoute

from crisis.app.db import Database
from crisis.app.factory import ROUTERS, create_app
from crisis.app.settings import Settings
from tests.support import FrozenClock, make_user

HOSTILE = ("2147483648", "9223372036854775808", "99999999999999999999")
ROLES = ("prefect", "validator", "communicator", "trainer", "operator", "admin")


@pytest.fixture
async def app_client(
    settings: Settings, db: Database, clock: FrozenClock
) -> AsyncIterator[tuple[httpx.AsyncClient, list[tuple[str, str]]]]:
    app = create_app(settings, clock=clock, database=db)
    routes = [
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and re.search(r"\{\w*(id|position)\}", route.path)
        for method in sorted(route.methods)
    ]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http, routes


async def test_every_route_answers_an_id_beyond_the_database_integer_with_a_reason(
    app_client: tuple[httpx.AsyncClient, list[tuple[str, str]]],
    db: Database,
    clock: FrozenClock,
) -> None:
    client, routes = app_client
    user = await make_user(db, clock, "tous", *ROLES)
    assert len(routes) > 20
    server_errors = []
    for method, path in routes:
        for value in HOSTILE:
            url = re.sub(r"\{\w+\}", value, path)
            answer = await client.request(method, url, headers=user.headers, json={})
            if answer.status_code >= 500:
                server_errors.append(f"{method} {url}: {answer.status_code}")
            elif answer.status_code == 422 and url.startswith("/api/"):
                assert "error" in answer.json()
    assert server_errors == []


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/crises/1/bulletins", {"title": "t", "body": "b", "references": [2147483648]}),
        ("/api/v1/crises/1/cell/acknowledgements", {"user": 2147483648, "role": "prefect"}),
    ],
)
async def test_an_id_beyond_the_database_integer_in_a_request_body_is_refused_with_422(
    app_client: tuple[httpx.AsyncClient, list[tuple[str, str]]],
    db: Database,
    clock: FrozenClock,
    url: str,
    body: dict[str, object],
) -> None:
    client, _ = app_client
    user = await make_user(db, clock, "tous", *ROLES)
    answer = await client.post(url, headers=user.headers, json=body)
    assert answer.status_code == 422, answer.text
    assert "2147483647" in answer.text
