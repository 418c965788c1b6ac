"""The scripted first hour of the demo: ES47 and ES48 end met, with their times."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import httpx

from channels.sandbox import Sandbox
from crisis import directory
from crisis.app import bootstrap, demo_scenario
from crisis.app.db import Database
from crisis.app.demo_channels import with_sandbox
from crisis.app.dispatch import dispatcher_from_config
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.app.ticks import clock_tick
from crisis.cell.crises import Crisis
from crisis.vocabulary import CrisisStatus
from tests.support import FrozenClock, make_user


async def play_demo(
    db: Database, clock: FrozenClock, settings: Settings, sandbox: Sandbox
) -> tuple[Settings, int]:
    """The demo's users, directory and scripted first hour: (its settings, its crisis)."""
    await bootstrap.demo_users(db, clock)
    async with db.transaction() as session:
        await directory.load_demo(session, now=clock.now())
    configured = with_sandbox(settings, sandbox)
    return configured, await demo_scenario.play(db, configured, now=clock.now())


async def test_the_scripted_crisis_reaches_the_three_audiences_and_meets_es47_and_es48(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with Sandbox() as sandbox:
        configured, crisis_id = await play_demo(db, clock, settings, sandbox)
        worker = dispatcher_from_config(
            db=db, channels=configured.channels, exercise_channels=configured.exercise_channels,
            rng=random.Random(3),
        )  # fmt: skip
        for _ in range(20):
            report = await worker.run(clock.now())
            if report.claimed == 0:
                break
            clock.advance(seconds=30)
        await worker.aclose()
        await clock_tick(db, configured)(clock.now())
        mayors_reached = {m.recipient for m in sandbox.smtp.state.received}
        cip_answers = [m for m in sandbox.smtp.state.received if "[CIP-" in m.subject]
        assert sandbox.urls["cip_inbox"].startswith("smtp://127.0.0.1:")
        posted = len(sandbox.x.state.received) + len(sandbox.mastodon.state.received)

    viewer = await make_user(db, clock, "lecteur", "operator")
    app = create_app(configured, clock=clock, database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tocsin.test"
    ) as client:
        clocks = (
            await client.get(f"/api/v1/crises/{crisis_id}/clocks", headers=viewer.headers)
        ).json()
        cip = (await client.get(f"/api/v1/crises/{crisis_id}/cip", headers=viewer.headers)).json()
        faq = (
            await client.get(f"/api/v1/crises/{crisis_id}/cip/faq", headers=viewer.headers)
        ).json()
        written = (
            await client.get(f"/api/v1/crises/{crisis_id}/cip/requests", headers=viewer.headers)
        ).json()
        public = (await client.get("/public/bulletins")).text
        [page] = re.findall(r'href="(/public/bulletins/[^"?]+)"', public)[:1]
        english = (await client.get(f"{page}?lang=en")).text
    by_code = {c["code"]: c for c in clocks}
    assert by_code["ES47"]["status"] == "met" and by_code["ES47"]["met_at"]
    assert by_code["ES50"]["status"] == "met" and by_code["ES50"]["met_at"]
    es48 = by_code["ES48"]
    assert es48["status"] == "met", es48["coverage"]
    for audience in ("officials", "media", "public"):
        assert es48["coverage"][audience]["covered_at"], audience
        assert es48["coverage"][audience]["missing"] == []
    assert es48["coverage"]["officials"]["total"] > 100  # the arrondissement's officials
    assert len(mayors_reached) > 100 and posted == 2
    assert len(sandbox.webhook.state.received) == 1
    assert cip["status"] == "open" and cip["number_display"] == "0 800 80 80 80"
    assert cip["figures"]["calls"] == 6 and cip["figures"]["open_follow_ups"] == 1
    assert len(faq["items"]) == 5
    # two written requests: one answered by e-mail (through the dispatcher), one waiting
    assert sorted(r["status"] for r in written["items"]) == ["answered", "new"]
    assert [m.recipient for m in cip_answers] == ["michel.berger@exemple.test"]
    assert demo_scenario.ENGLISH["title"] in english  # the visitors' version, on its public page
    assert [s["question"] for s in cip["figures"]["suggestions"]] == [
        "Les écoles seront-elles ouvertes demain ?",
        "Le collège ouvre-t-il demain ?",
    ]


async def test_the_demo_plays_in_the_first_hour_after_midnight_when_its_crisis_began_yesterday(
    db: Database, settings: Settings
) -> None:
    # The scripted crisis begins 50 minutes before the start: at 00:10 UTC, yesterday evening.
    clock = FrozenClock(datetime(2026, 12, 6, 0, 0, 13, tzinfo=UTC))
    async with Sandbox() as sandbox:
        _, crisis_id = await play_demo(db, clock, settings, sandbox)
    async with db.read() as session:
        crisis = await session.get(Crisis, crisis_id)
    assert crisis is not None and crisis.status == CrisisStatus.CELL_OPERATIONAL
    assert crisis.cod_recorded_by == "prefet"
    assert crisis.declared_at is not None and crisis.declared_at.day == 5
