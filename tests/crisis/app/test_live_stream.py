"""The live stream's hub: one computation per topic and round whatever the subscribers, the
first bytes before any database work, announcements only for meaningful changes, and a client
that leaves ending its stream cleanly."""

from __future__ import annotations

import asyncio
import gc
import logging
from contextlib import AsyncExitStack

import pytest

from crisis.app import live
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.app.web import live_stream
from tests.crisis.app.test_live import BOUND, Stream
from tests.support import FrozenClock, make_user


class Figures:
    """A topic's figures as a test sets them; each computation counted."""

    def __init__(self) -> None:
        self.value: live.Figures = {"counts": {"total": 10, "sent": 0}}
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def compute(self, topic: str) -> live.Figures:
        await self.gate.wait()
        self.calls += 1
        return dict(self.value)


async def test_fifty_subscribers_and_a_hundred_wake_ups_cost_one_computation_per_round() -> None:
    signal = live.JournalSignal(tick_seconds=3600)
    source = Figures()
    hub = live.LiveHub(signal, source.compute, min_interval=3600)
    async with AsyncExitStack() as stack:
        subs = [await stack.enter_async_context(hub.subscribe("evenement:1")) for _ in range(50)]
        first = await asyncio.wait_for(subs[0].next(), BOUND)
        assert first.version == 1 and source.calls == 1
        for _ in range(100):
            signal.wake()
        await asyncio.sleep(0)
        assert source.calls == 1  # the next round waits for the bound, however many wake-ups
        source.value = {"counts": {"total": 10, "sent": 5}}
        await hub.refresh()
        assert source.calls == 2
        for sub in subs:
            message = await asyncio.wait_for(sub.next(), BOUND)
            assert message.version == 2 and message.changed == ["counts"]
        await hub.refresh()  # nothing moved: nothing is published
        assert hub.computations == 3
        assert not any(sub.pending for sub in subs)
    assert not hub.running and hub.subscribers("evenement:1") == 0


async def test_a_message_names_the_journal_entry_read_after_the_figures_it_carries() -> None:
    read: list[str] = []

    async def compute(topic: str) -> live.Figures:
        read.append("figures")
        return {"journal": len(read)}

    async def head() -> int:
        read.append("head")
        return 42

    hub = live.LiveHub(live.JournalSignal(tick_seconds=3600), compute, head=head, min_interval=3600)
    async with hub.subscribe("evenement:1") as subscription:
        message = await asyncio.wait_for(subscription.next(), BOUND)
    assert read == ["figures", "head"]
    assert message.head == 42 and message.as_json()["head"] == 42


async def test_a_journal_head_that_cannot_be_read_leaves_the_message_without_one() -> None:
    async def unreadable() -> int:
        raise OSError("la base ne répond pas")

    source = Figures()
    hub = live.LiveHub(
        live.JournalSignal(tick_seconds=3600), source.compute, head=unreadable, min_interval=3600
    )
    async with hub.subscribe("evenement:1") as subscription:
        message = await asyncio.wait_for(subscription.next(), BOUND)
    assert message.figures == source.value and message.head == 0  # pages then ask for the last


def test_deliveries_are_announced_when_they_cross_a_step_not_at_every_move() -> None:
    topic = "communique:7"
    old = {"counts": {"total": 1000, "sent": 90}}
    small = {"counts": {"total": 1000, "sent": 95}}
    crossed = {"counts": {"total": 1000, "sent": 101, "to_call": 2}}
    assert live_stream.announcements(topic, old, small) == []
    assert live_stream.announcements(topic, small, crossed) == [
        "Envois : 101 sur 1000 délivrés.",
        "À appeler : 2.",
    ]


def test_a_clock_changing_state_is_announced() -> None:
    def clocks(status: str, alerts: int) -> live.Figures:
        return {"clocks": {"ES48": {"status": status, "alerts": alerts, "coverage": {}}}}

    topic = "evenement:3"
    assert live_stream.announcements(topic, clocks("running", 0), clocks("running", 0)) == []
    assert live_stream.announcements(topic, clocks("running", 0), clocks("overdue", 1)) == [
        "Échéance ES48 dépassée.",
        "Alerte ES48 envoyée.",
    ]


async def test_the_stream_says_ready_before_any_database_work(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "veilleur", "operator")
    app = create_app(settings, clock=clock, database=db)
    source = Figures()
    source.gate.clear()  # the figures never come: the database is, say, overloaded
    app.state.live_hub = live.LiveHub(app.state.live, source.compute)
    async with Stream(app, user.token).open() as stream:
        assert (await stream.next()).startswith(": prêt")
        assert stream.status == 200 and source.calls == 0
    assert not app.state.live_hub.running


async def test_a_client_leaving_ends_its_stream_without_asyncio_complaints(
    settings: Settings,
    db: Database,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    user = await make_user(db, clock, "veilleur", "operator")
    app = create_app(settings, clock=clock, database=db)
    hub = live_stream.hub_of(app)
    async with Stream(app, user.token).open() as stream:
        assert (await stream.next()).startswith(": prêt")
        change = await stream.next()
        assert change.startswith("event: change") and '"crises"' in change
        assert hub.subscribers(live_stream.BOARD) == 1 and hub.running
    # the context waited for the app's task: the generator finished, the hub stopped
    assert hub.subscribers(live_stream.BOARD) == 0 and not hub.running
    gc.collect()
    await asyncio.sleep(0)
    noise = [r for r in caplog.records if "destroyed" in r.getMessage() or r.name == "asyncio"]
    assert noise == []
