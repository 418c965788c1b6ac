"""After a crash, a delivery sent again says what its channel guarantees (issue 17 item 5)."""

from __future__ import annotations

import sqlalchemy as sa

from channels.kinds import ChannelKind
from crisis.app.db import Database
from crisis.dispatch.guarantees import GENERIC, after_crash, after_crash_sql


def test_every_channel_states_its_guarantee_after_a_crash() -> None:
    assert {after_crash(kind.value) for kind in ChannelKind} - {GENERIC}
    for kind in ChannelKind:
        assert after_crash(kind.value).startswith("Envoi interrompu")


def test_telegram_and_x_state_that_a_message_may_have_gone_twice() -> None:
    assert "a pu être reçu deux fois" in after_crash("telegram")
    assert "a pu paraître deux fois" in after_crash("x")


def test_the_channels_with_a_key_state_that_the_resend_is_recognised() -> None:
    for channel in ("mastodon", "matrix", "sms"):
        assert "pas de doublon" in after_crash(channel)


def test_an_unknown_channel_gets_the_cautious_sentence() -> None:
    assert after_crash("pigeon") == GENERIC


async def test_the_database_picks_each_rows_sentence_in_one_statement(db: Database) -> None:
    channels = ["telegram", "matrix", "pigeon"]
    async with db.read() as session:
        found = [
            (await session.execute(sa.select(after_crash_sql(sa.literal(c))))).scalar_one()
            for c in channels
        ]
    assert found == [after_crash(c) for c in channels]
