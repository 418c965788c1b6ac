"""Everything public comes from a cache that a publication invalidates: published to visible
within one second, also when another process published (issue 21 item 3)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.public.cache import PublicCache
from tests.crisis.bulletin_support import declare, published
from tests.support import FrozenClock


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cached_app(settings: Settings, db: Database, clock: FrozenClock, time: Monotonic) -> FastAPI:
    app = create_app(settings, clock=clock, database=db)
    app.state.public_cache = PublicCache(monotonic=time, stamp_ttl=0.5)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t.test")


async def test_a_publication_is_visible_within_one_second_in_every_process(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    time = Monotonic()
    apps = [_cached_app(settings, db, clock, time) for _ in range(2)]  # two server processes
    crisis_id = await declare(db, clock.now())
    await published(
        db, clock.now(), crisis_id=crisis_id, title="Premier point", audiences=["public"]
    )
    async with _client(apps[0]) as first, _client(apps[1]) as second:
        for url in ("/public/feed.atom", "/public/bulletins", "/public/feed.atom?commune=80001"):
            for client in (first, second):
                assert "Premier point" in (await client.get(url)).text
        caches = [app.state.public_cache for app in apps]
        built = [c.builds for c in caches]
        for _ in range(5):  # a flood: served from memory, nothing rendered again
            await first.get("/public/feed.atom")
        assert [c.builds for c in caches] == built
        clock.advance(minutes=5)
        await published(
            db, clock.now(), crisis_id=crisis_id, title="Deuxième point", audiences=["public"]
        )
        assert "Deuxième point" not in (await first.get("/public/feed.atom")).text  # same instant
        time.now += 0.6
        for url in ("/public/feed.atom", "/public/bulletins", "/public/feed.atom?commune=80001"):
            for client in (first, second):
                assert "Deuxième point" in (await client.get(url)).text, url


async def test_an_unknown_public_id_is_not_kept_and_a_flood_of_them_stays_bounded(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    time = Monotonic()
    app = _cached_app(settings, db, clock, time)
    async with _client(app) as client:
        for n in range(3000):
            name = f"{n:022d}"
            assert (await client.get(f"/public/cap/{name}.xml")).status_code == 404
    cache: PublicCache = app.state.public_cache
    assert cache.builds == 0 and cache.held() <= 2 * 1024


async def test_a_kept_answer_is_served_before_the_application_with_the_same_headers(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    time = Monotonic()
    app = _cached_app(settings, db, clock, time)
    crisis_id = await declare(db, clock.now())
    await published(
        db, clock.now(), crisis_id=crisis_id, title="Premier point", audiences=["public"]
    )
    async with _client(app) as client:
        first = await client.get("/public/feed.atom?mode=real")
        hits = await client.get("/metrics")
        assert "tocsin_public_cache_hits_total 0.0" in hits.text
        again = await client.get("/public/feed.atom?mode=real&autre=1")
        assert again.content == first.content
        for name in (
            "content-type",
            "etag",
            "last-modified",
            "cache-control",
            "content-security-policy",
            "x-content-type-options",
        ):
            assert again.headers[name] == first.headers[name], name
        assert "set-cookie" not in again.headers
        revalidated = await client.get(
            "/public/feed.atom", headers={"If-None-Match": first.headers["etag"]}
        )
        assert revalidated.status_code == 304
        refused = await client.get("/public/feed.atom?mode=nimporte")
        assert refused.status_code == 400  # the application refuses, in French
        assert "Mode inconnu" in refused.text
        assert "tocsin_public_cache_hits_total 2.0" in (await client.get("/metrics")).text


async def test_a_head_request_gets_the_headers_of_the_get_without_its_body(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    app = _cached_app(settings, db, clock, Monotonic())
    crisis_id = await declare(db, clock.now())
    await published(db, clock.now(), crisis_id=crisis_id, title="Point", audiences=["public"])
    async with _client(app) as client:
        for url in ("/public/feed.atom", "/public/bulletins"):
            built = await client.head(url)  # by the application
            got = await client.get(url)
            kept = await client.head(url)  # from the cache's fast path
            for head in (built, kept):
                assert head.status_code == 200 and head.content == b""
                assert head.headers["etag"] == got.headers["etag"]
                assert head.headers["content-type"] == got.headers["content-type"]
        assert (await client.head("/public/bulletins/inconnu")).status_code == 404
