"""Every fake counts a message that comes twice: delivered twice, or recognised by its key.

A restarted process resends what it cannot know was sent (a crash between the provider's
acceptance and the record): the adapters give the providers that have one the delivery's key
(SMS reference, Mastodon ``Idempotency-Key``, Matrix txnId); the others deliver it again,
and the fake says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from channels import registry
from channels.base import Message, Recipient
from channels.kinds import ChannelKind
from channels.sandbox import Sandbox
from tests.channels.conftest import ManualClock

KEY_LIFETIME = 3600.0  # Mastodon keeps an Idempotency-Key an hour


@dataclass(frozen=True)
class Resend:
    kind: ChannelKind
    fake: str
    address: Callable[[Sandbox], str]
    absorbed: bool  # the provider recognises the resend and delivers nothing


RESENDS = [
    Resend(ChannelKind.EMAIL, "smtp", lambda sb: "maire@mairie-exemple.fr", absorbed=False),
    Resend(ChannelKind.TELEGRAM, "telegram", lambda sb: "4242", absorbed=False),
    Resend(ChannelKind.SMS, "sms", lambda sb: "+33612345678", absorbed=True),
    Resend(ChannelKind.MASTODON, "mastodon", lambda sb: "public", absorbed=True),
    Resend(ChannelKind.MATRIX, "matrix", lambda sb: "!cellule:sandbox.local", absorbed=True),
    Resend(ChannelKind.X, "x", lambda sb: "public", absorbed=True),
]


async def _send(sandbox: Sandbox, case: Resend, *, key: str, text: str) -> None:
    """One send by a fresh adapter, as a restarted process would make it."""
    channel = registry.build_channel(case.kind, sandbox.config())
    assert channel is not None
    try:
        await channel.send(
            Message(text=text, subject="Crue", idempotency_key=key, audience="officials"),
            Recipient(kind=case.kind, address=case.address(sandbox)),
        )
    finally:
        await channel.aclose()


@pytest.mark.parametrize("case", RESENDS, ids=[case.fake for case in RESENDS])
async def test_a_delivery_sent_again_after_a_restart_is_counted_by_the_fake(
    sandbox: Sandbox, clock: ManualClock, case: Resend
) -> None:
    text = "Crue de la Somme : évacuez la rue basse."
    await _send(sandbox, case, key="b-7/d-3", text=text)
    clock.advance(2)  # past Telegram's one message a second per chat
    await _send(sandbox, case, key="b-7/d-3", text=text)
    state = sandbox.states[case.fake]
    assert len(state.duplicates) == 1
    assert state.duplicates[0].recipient == state.received[0].recipient
    if case.absorbed:
        assert (state.absorbed, state.delivered_twice, len(state.received)) == (1, 0, 1)
    else:
        assert (state.absorbed, state.delivered_twice, len(state.received)) == (0, 1, 2)


@pytest.mark.parametrize("case", RESENDS, ids=[case.fake for case in RESENDS])
async def test_two_different_deliveries_are_no_duplicate(
    sandbox: Sandbox, clock: ManualClock, case: Resend
) -> None:
    await _send(sandbox, case, key="b-7/d-3", text="Crue : premier message.")
    clock.advance(2)
    await _send(sandbox, case, key="b-7/d-4", text="Crue : second message.")
    assert sandbox.states[case.fake].duplicates == []


async def _status(client: httpx.AsyncClient, sandbox: Sandbox, key: str) -> httpx.Response:
    return await client.post(
        sandbox.urls["mastodon"] + "/api/v1/statuses",
        json={"status": "Crue de la Somme"},
        headers={"Authorization": f"Bearer {sandbox.mastodon.token}", "Idempotency-Key": key},
    )


async def test_mastodon_answers_the_same_status_to_a_key_reused_within_the_hour(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    sandbox.mastodon.clock = clock
    async with httpx.AsyncClient() as client:
        first = (await _status(client, sandbox, "k1")).json()
        clock.advance(KEY_LIFETIME - 1)
        again = (await _status(client, sandbox, "k1")).json()
        assert again["id"] == first["id"]
        assert len(sandbox.mastodon.state.received) == 1
        assert sandbox.mastodon.state.delivered_twice == 0
        clock.advance(2)  # the key has expired: Mastodon posts the text again
        later = (await _status(client, sandbox, "k1")).json()
    assert later["id"] != first["id"]
    assert sandbox.mastodon.state.delivered_twice == 1


async def test_the_sms_gateway_reports_a_resend_instead_of_dropping_it_silently(
    sandbox: Sandbox,
) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(2):
            answer = await client.post(
                sandbox.urls["sms"] + "/sms",
                json={"to": "+33612345678", "text": "Crue", "reference": "ref-1"},
                headers={"Authorization": f"Bearer {sandbox.sms.api_key}"},
            )
        listed = (await client.get(sandbox.urls["sms"] + "/_sandbox/messages")).json()
        page = (await client.get(sandbox.urls["dashboard"] + "/")).text
    assert answer.json()["duplicate"] is True
    assert (listed["absorbed"], listed["delivered_twice"]) == (1, 0)
    assert listed["duplicates"][0]["key"] == "ref-1"
    assert "1 renvoi(s) reconnu(s) et non remis" in page


async def test_a_telegram_message_delivered_twice_shows_on_the_dashboard(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(2):
            await client.post(
                f"{sandbox.urls['telegram']}/bot{sandbox.telegram.token}/sendMessage",
                json={"chat_id": "7", "text": "Crue"},
            )
            clock.advance(2)
        page = (await client.get(sandbox.urls["dashboard"] + "/")).text
        sandbox.telegram.state.reset()
    assert "1 message(s) remis deux fois" in page
    assert sandbox.telegram.state.duplicates == []
