"""The demo's published bulletins are public (issue 21, « done when »): on the list, in the
Atom feed and as CAP alerts valid against the official schema."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.cip import ordering
from crisis.public.cache import PublicCache
from tests.crisis.app.test_demo_scenario import play_demo
from tests.crisis.lifecycle_support import PREFECT
from tests.crisis.public.support import ATOM, CAP, valid_cap, valid_feed
from tests.support import FrozenClock


async def _demo_app(db: Database, clock: FrozenClock, settings: Settings) -> tuple[FastAPI, int]:
    """The app after the demo's scripted first hour, and the demo's crisis."""
    async with Sandbox() as sandbox:
        configured, crisis_id = await play_demo(db, clock, settings, sandbox)
    return create_app(configured, clock=clock, database=db), crisis_id


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tocsin.test")


async def test_the_demos_public_bulletin_is_listed_in_the_feed_and_a_valid_cap_alert(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    app, _ = await _demo_app(db, clock, settings)
    async with _client(app) as client:
        listed = (await client.get("/public/bulletins")).text
        names = re.findall(r'href="/public/bulletins/([A-Za-z0-9_-]{22})"', listed)
        assert names, "the demo's public bulletin is on the public list"
        feed = valid_feed((await client.get("/public/feed.atom")).content)
        entries = feed.findall(f"{ATOM}entry")
        assert len(entries) == len(set(names))
        for name in set(names):
            alert = valid_cap((await client.get(f"/public/cap/{name}.xml")).content)
            assert alert.findtext(f"{CAP}status") == "Actual"
            assert alert.findtext(f"{CAP}info/{CAP}category") == "Met"  # the flood playbook
            codes = alert.findall(f"{CAP}info/{CAP}area/{CAP}geocode/{CAP}value")
            assert "80001" in {c.text for c in codes}  # Abbeville, by its INSEE code


CIP_LINE = "Cellule d'information du public : "


async def test_the_open_cips_number_is_on_the_public_pages_until_it_closes(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    app, crisis_id = await _demo_app(db, clock, settings)
    seconds = [0.0]
    app.state.public_cache = PublicCache(monotonic=lambda: seconds[0], stamp_ttl=0.5)
    async with _client(app) as client:
        listed = (await client.get("/public/bulletins")).text
        assert f'{CIP_LINE}<a href="tel:0800808080">0 800 80 80 80</a>' in listed
        name = re.findall(r'href="/public/bulletins/([A-Za-z0-9_-]{22})"', listed)[0]
        alert = valid_cap((await client.get(f"/public/cap/{name}.xml")).content)
        assert "0 800 80 80 80" in (alert.findtext(f"{CAP}info/{CAP}contact") or "")
        exercise_list = (await client.get("/public/bulletins?mode=exercise")).text
        assert CIP_LINE not in exercise_list  # the demo's CIP is a real one
        async with db.transaction() as session:
            await ordering.close(session, actor=PREFECT, crisis_id=crisis_id, now=clock.now())
        seconds[0] += 1  # past the stamp's half second: the cache reads the closing
        assert CIP_LINE not in (await client.get("/public/bulletins")).text
        assert CIP_LINE not in (await client.get(f"/public/bulletins/{name}")).text
