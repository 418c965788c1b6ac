"""`tocsin serve --demo --sandbox URL`: several demo instances send to one running sandbox
(crisis/app/demo_channels.py `SharedSandbox`), and a bad address is refused before anything."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from channels.sandbox import Sandbox
from crisis.app import cli
from crisis.app.db import Database
from crisis.app.demo_channels import SandboxUnreachable, SharedSandbox, with_sandbox
from crisis.app.dispatch import dispatcher_from_config
from crisis.app.settings import Settings
from tests.crisis.dispatch_support import emails, enqueue
from tests.process_support import free_port
from tests.support import FrozenClock


async def test_a_demo_joined_to_a_running_sandbox_sends_there_and_points_its_replies_home(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with Sandbox() as running:
        # The joining instance speaks to the sandbox over HTTP, as from another process.
        shared = await asyncio.to_thread(SharedSandbox(running.urls["dashboard"]).start)
        configured = await asyncio.to_thread(with_sandbox, settings, shared)
        await enqueue(db, now=clock.now(), addresses=emails(3))
        await enqueue(
            db,
            now=clock.now(),
            channel="webhook",
            addresses=[shared.webhook_url()],
            audience="public",
        )
        worker = dispatcher_from_config(
            db=db, channels=configured.channels, exercise_channels=configured.exercise_channels,
            rng=random.Random(5),
        )  # fmt: skip
        await worker.run(clock.now())
        await worker.aclose()
        assert configured.channels.smtp is not None
        assert (configured.channels.smtp.host, configured.channels.smtp.port) == (
            running.smtp.host,
            running.smtp.port,
        )
        assert configured.exercise_channels == configured.channels  # both sets: the fakes
        assert sorted(m.recipient for m in running.smtp.state.received) == sorted(emails(3))
        assert len(running.webhook.state.received) == 1
        assert running.telegram.reply_target is not None
        assert running.telegram.reply_target.url.startswith(settings.base_url)
        assert running.urls["cip_inbox"].endswith(f":{configured.cip_smtp_port}")


async def test_a_sandbox_that_names_a_service_off_the_machine_is_refused() -> None:
    async with Sandbox() as running:
        running.urls["x"] = "https://api.x.com"  # a real provider: a demo never goes there
        with pytest.raises(SandboxUnreachable) as refused:
            await asyncio.to_thread(SharedSandbox(running.urls["dashboard"]).start)
    assert "hors de la machine : https://api.x.com" in str(refused.value)


def test_a_sandbox_address_where_none_answers_is_refused_before_the_database_is_made(
    tmp_path: Path,
) -> None:
    page = f"http://127.0.0.1:{free_port()}"
    refused = CliRunner().invoke(
        cli.app, ["serve", "--demo", "--sandbox", page, "--db", f"sqlite:///{tmp_path / 't.db'}"]
    )
    assert refused.exit_code == 2
    assert f"aucun bac à sable ne répond à {page}" in refused.output
    assert not (tmp_path / "t.db").exists()


def test_a_sandbox_without_the_demo_or_off_loopback_is_refused_with_exit_2(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 't.db'}"
    alone = CliRunner().invoke(
        cli.app, ["serve", "--sandbox", "http://127.0.0.1:8090", "--db", database]
    )
    remote = CliRunner().invoke(
        cli.app, ["serve", "--demo", "--sandbox", "http://192.0.2.7:8090", "--db", database]
    )
    assert (alone.exit_code, remote.exit_code) == (2, 2)
    assert "--sandbox ne va qu'avec --demo" in alone.output
    assert "boucle locale" in remote.output
    assert not (tmp_path / "t.db").exists()
