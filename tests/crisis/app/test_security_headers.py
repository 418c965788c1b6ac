"""Security headers on every kind of response; 405 names the methods allowed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.security_headers import CONTENT_SECURITY_POLICY
from crisis.app.settings import Settings
from tests.crisis.app.web_session import log_in
from tests.crisis.bulletin_support import declare, published
from tests.support import FrozenClock, make_user

EVERYWHERE = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@pytest.fixture
async def app(settings: Settings, db: Database, clock: FrozenClock) -> FastAPI:
    return create_app(settings, clock=clock, database=db)


@pytest.fixture
async def answers(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> AsyncIterator[dict[str, httpx.Response]]:
    """One answer of each kind the service gives."""
    crisis_id = await declare(db, clock.now())
    bulletin_id = await published(db, clock.now(), crisis_id=crisis_id)
    user = await make_user(db, clock, "prefet", "prefect")
    answers = {
        "public page": await client.get(f"/public/bulletins/{bulletin_id}"),
        "login page": await client.get("/connexion"),
        "static asset": await client.get("/static/tocsin/tocsin.css"),
        "API JSON": await client.get("/api/v1/crises", headers=user.headers),
        "API 404": await client.get("/api/v1/crises/999", headers=user.headers),
        "API 405": await client.delete("/api/v1/crises", headers=user.headers),
        "web 405": await client.put("/connexion"),
        "web 404": await client.get("/page-inexistante"),
    }
    await log_in(client, user.login, user.password)
    answers["authenticated page"] = await client.get("/")
    answers["authenticated fragment"] = await client.get("/fragments/evenements")
    yield answers


KINDS = (
    "public page",
    "login page",
    "static asset",
    "API JSON",
    "API 404",
    "API 405",
    "web 405",
    "web 404",
    "authenticated page",
    "authenticated fragment",
)


@pytest.mark.parametrize("kind", KINDS)
async def test_no_answer_can_be_framed_sniffed_or_run_an_inline_script(
    answers: dict[str, httpx.Response], kind: str
) -> None:
    answer = answers[kind]
    assert answer.status_code < 500
    for name, value in EVERYWHERE.items():
        assert answer.headers.get(name) == value, (kind, name)
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in answer.headers["Content-Security-Policy"]


async def test_no_cache_keeps_an_authenticated_page_an_api_answer_or_the_login_page(
    answers: dict[str, httpx.Response],
) -> None:
    # The public pages set no cookie (issue 21: a shared cache may keep their 200 answers,
    # which say so themselves); this one is a 404 (a row id is no public name): not kept.
    assert "Set-Cookie" not in answers["public page"].headers
    stored = {k: answers[k].headers.get("Cache-Control") for k in KINDS}
    assert stored == {
        "public page": "no-store",
        "login page": "no-store",
        "static asset": "max-age=300",
        "API JSON": "no-store",
        "API 404": "no-store",
        "API 405": "no-store",
        "web 405": "no-store",
        "web 404": "no-store",
        "authenticated page": "no-store",
        "authenticated fragment": "no-store",
    }


async def test_a_wrong_method_answers_405_with_every_method_allowed_and_a_french_reason(
    answers: dict[str, httpx.Response],
) -> None:
    api, web = answers["API 405"], answers["web 405"]
    assert api.status_code == web.status_code == 405
    assert api.headers["Allow"] == "GET, POST"  # two routes share the path
    assert api.json()["error"] == {
        "code": "method_not_allowed",
        "message": "Méthode DELETE non autorisée ici : GET, POST.",
        "details": None,
    }
    assert web.headers["Allow"] == "GET, POST"
    assert "Méthode PUT non autorisée ici : GET, POST." in web.text


async def test_hsts_is_sent_only_over_tls_never_on_plain_http(app: FastAPI) -> None:
    async def hsts(base_url: str) -> str | None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            return (await http.get("/connexion")).headers.get("Strict-Transport-Security")

    assert await hsts("https://tocsin.test") == "max-age=31536000; includeSubDomains"
    assert await hsts("http://tocsin.test") is None


@pytest.mark.parametrize(("proxy", "expected"), [("127.0.0.1", True), ("203.0.113.9", False)])
async def test_hsts_behind_a_proxy_only_when_uvicorn_trusts_its_forwarded_proto(
    app: FastAPI, proxy: str, expected: bool
) -> None:
    """`crisis serve` runs uvicorn, which believes `X-Forwarded-Proto` from 127.0.0.1 only."""
    behind = ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1")
    transport = httpx.ASGITransport(app=behind, client=(proxy, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        answer = await http.get("/connexion", headers={"X-Forwarded-Proto": "https"})
    assert ("Strict-Transport-Security" in answer.headers) is expected
