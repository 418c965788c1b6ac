from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator

import pytest

from channels.config import ChannelsConfig
from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.app.dispatch import confirmation_links, dispatcher_from_config
from crisis.app.settings import Settings
from crisis.app.signing import confirmation_secret
from crisis.bulletin import confirmations
from tests.crisis.dispatch_support import deliveries, enqueue
from tests.support import FrozenClock


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


async def test_each_official_receives_their_own_signed_confirmation_link(
    db: Database, clock: FrozenClock, sandbox: Sandbox, settings: Settings
) -> None:
    smtp = sandbox.config().smtp
    assert smtp is not None
    await enqueue(
        db,
        now=clock.now(),
        addresses=["maire@mairie-abbeville.fr", "maire@mairie-amiens.fr"],
        text="Crue : confirmez la réception ici : {lien_confirmation}",
    )
    worker = dispatcher_from_config(
        db=db,
        channels=ChannelsConfig(smtp=smtp),
        exercise_channels=ChannelsConfig(),
        rng=random.Random(1),
        personalise=confirmation_links(settings),
    )
    await worker.run(clock.now())
    await worker.aclose()
    sent = {d.address: d.id for d in await deliveries(db)}
    received = {m.recipient: m.text for m in sandbox.smtp.state.received}
    assert set(received) == set(sent)
    secret = confirmation_secret(settings)
    for address, text in received.items():
        assert "{lien_confirmation}" not in text
        match = re.search(r"/confirmer/(\S+)", text)
        assert match, text
        assert confirmations.delivery_of(match.group(1), secret=secret) == sent[address]
