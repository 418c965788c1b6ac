"""Every `/api/v1` route declares what it returns, and real answers match the declaration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter

from crisis.app.api.schemas import bulletins, contacts, crises, geo, inbound
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from tests.crisis.bulletin_support import ABBEVILLE, BODY, TITLE, load_directory
from tests.support import FrozenClock, make_user


@pytest.fixture
def app(settings: Settings, db: Database, clock: FrozenClock) -> FastAPI:
    return create_app(settings, clock=clock, database=db)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http


def _success_schemas(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        answer.get("content", {}).get("application/json", {}).get("schema", {})
        for status, answer in operation["responses"].items()
        if status.startswith("2")
    ]


async def test_every_api_route_declares_a_typed_success_schema(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    api = {p: ops for p, ops in paths.items() if p.startswith("/api/v1")}
    untyped = [
        f"{method.upper()} {path}"
        for path, operations in api.items()
        for method, operation in operations.items()
        if not any("$ref" in s or "type" in s for s in _success_schemas(operation))
    ]
    assert len(api) > 30
    assert untyped == []


async def test_every_api_route_declares_the_common_errors_with_the_envelope(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in operations.items():
            for status in ("400", "401", "403", "422"):  # what any route may answer
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (method, path)


MODELS = {
    cls.__name__: cls
    for module in (crises, bulletins, contacts, geo, inbound)
    for cls in vars(module).values()
    if isinstance(cls, type) and issubclass(cls, BaseModel)
}


def _model_of(schema: dict[str, Any]) -> Any:
    if schema.get("type") == "array":
        return list[_model_of(schema["items"])]  # type: ignore[misc]
    return MODELS[schema["$ref"].rsplit("/", 1)[-1]]


def _check(document: dict[str, Any], method: str, path: str, answer: Any) -> None:
    """The answer validates against the OpenAPI schema, and the declared model writes it back
    unchanged (no key it does not declare, no value it reshapes)."""
    operation = document["paths"][path][method]
    status = next(s for s in operation["responses"] if s.startswith("2"))
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    jsonschema.validate(answer, {**schema, "components": document["components"]})
    adapter: TypeAdapter[Any] = TypeAdapter(_model_of(schema))
    assert (
        adapter.dump_python(adapter.validate_python(answer), mode="json", exclude_unset=True)
        == answer
    )


async def test_real_answers_match_their_declared_schemas(
    app: FastAPI, client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    com = await make_user(db, clock, "com", "communicator")
    validator = await make_user(db, clock, "valideur", "validator")
    admin = await make_user(db, clock, "admin", "admin")
    await load_directory(db, clock.now())
    document = (await client.get("/openapi.json")).json()
    seen: list[tuple[str, str, Any]] = []

    async def call(method: str, template: str, user: Any, **params: Any) -> Any:
        url = template.format(**params.pop("path", {}))
        answer = await client.request(method, url, headers=user.headers, **params)
        assert answer.status_code < 300, answer.text
        seen.append((method.lower(), template, answer.json()))
        return answer.json()

    crisis = await call(
        "POST",
        "/api/v1/crises",
        prefect,
        json={"title": "Crue", "kind": "crue", "mode": "real", "communes": [ABBEVILLE]},
    )
    ids = {"crisis_id": crisis["id"]}
    await call("GET", "/api/v1/crises/{crisis_id}", prefect, path=ids)
    await call("GET", "/api/v1/crises/{crisis_id}/clocks", prefect, path=ids)
    new = {"title": TITLE, "body": BODY, "audiences": ["officials", "media"]}
    bulletin = await call("POST", "/api/v1/crises/{crisis_id}/bulletins", com, path=ids, json=new)
    ids = {"bulletin_id": bulletin["id"]}
    await call("POST", "/api/v1/bulletins/{bulletin_id}/submit", com, path=ids)
    await call("POST", "/api/v1/bulletins/{bulletin_id}/approve", validator, path=ids)
    await call("POST", "/api/v1/bulletins/{bulletin_id}/publish", com, path=ids)
    await call("GET", "/api/v1/bulletins/{bulletin_id}", com, path=ids)
    await call("GET", "/api/v1/bulletins/{bulletin_id}/deliveries", com, path=ids)
    await call("GET", "/api/v1/contacts", admin)
    await call("GET", "/api/v1/contacts", com)
    await call("GET", "/api/v1/crises", prefect)

    for method, path, answer in seen:
        _check(document, method, path, answer)
