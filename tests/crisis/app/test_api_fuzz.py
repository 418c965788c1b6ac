"""Schemathesis against `/openapi.json`, as every role and anonymous (issue 22): a bounded,
derandomized run for CI; `bench/fuzz` runs the long one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from tests.crisis.app.fuzz_support import ROLES, fuzz, seed
from tests.support import FrozenClock, make_user

SEED = 22
EXAMPLES = 3
"""Per operation, role and mode (valid, invalid): about 3,800 requests."""
STATEFUL = 3
"""Scenarios per authenticated role that follow the links schemathesis infers: about 200."""


async def test_no_route_answers_5xx_an_undeclared_status_or_an_undeclared_body_to_any_role(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    """One run, every check: a 5xx, a status the OpenAPI does not declare for the route, a body
    off its declared schema, an undeclared content type or header, a 405 without `Allow`."""
    tokens = await seed(db, clock)
    app = create_app(settings, clock=clock)  # its own engine, on the fuzzer's event loop
    report = await asyncio.to_thread(
        fuzz, app, tokens, max_examples=EXAMPLES, seed=SEED, stateful_examples=STATEFUL
    )

    linked = {f"{login} (liens)" for login, roles in ROLES.items() if roles}
    assert set(report.requests) == {*ROLES, *linked, "méthodes"}
    assert all(report.requests[login] > 150 for login in ROLES), report.requests
    assert {200, 401, 403, 404, 405, 409, 422} <= set(report.statuses), report.statuses
    assert report.links > 0 and all(report.requests[name] > 0 for name in linked)
    assert [f for f in report.findings if f.status >= 500] == []
    assert report.distinct("UndefinedStatusCode") == set()
    assert report.findings == []


@pytest.fixture
async def client(
    settings: Settings, db: Database, clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings, clock=clock, database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/crises/99999999999999999999",
        "/api/v1/bulletins/9223372036854775808",
        "/api/v1/crises/1/cip/faq/99999999999999999999/approve",
        "/api/v1/contacts/-1",
        "/api/v1/exercises/0",
    ],
)
async def test_an_id_out_of_the_database_range_is_refused_with_422_before_the_database(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, path: str
) -> None:
    admin = await make_user(db, clock, "admin", "prefect", "admin", "operator", "trainer")
    method = "POST" if path.endswith("/approve") else "GET"
    answer = await client.request(method, path, headers=admin.headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "validation_error"


async def test_a_body_that_is_not_utf8_gets_400_in_french(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    answer = await client.post(
        "/api/v1/crises",
        content=b'{"title": "\xff"}',
        headers={**prefect.headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert (
        answer.json()["error"]["message"]
        == "Corps de la requête illisible : JSON en UTF-8 attendu."
    )


async def test_the_directory_export_is_served_as_the_csv_the_openapi_declares(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin", "admin")
    answer = await client.get("/api/v1/contacts?format=csv", headers=admin.headers)
    declared = (await client.get("/openapi.json")).json()["paths"]["/api/v1/contacts"]["get"]
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] in declared["responses"]["200"]["content"]
