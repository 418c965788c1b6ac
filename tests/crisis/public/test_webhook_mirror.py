"""The prefecture's own site mirrors the situation from the webhook (issue 21): each bulletin
published to the public reaches it as signed JSON carrying the public page's address and the
CAP alert; a drill's reaches the exercise receiver alone, marked exercise, CAP in Exercise."""

from __future__ import annotations

from typing import Any

from channels.base import Channel, Message, Recipient
from channels.kinds import ChannelKind
from channels.sandbox import Sandbox
from channels.webhook import WebhookChannel
from crisis.app import actions
from crisis.app.db import Database
from crisis.app.policies import channel_policy
from crisis.app.settings import Settings
from crisis.dispatch.dispatcher import Dispatcher
from crisis.vocabulary import CrisisMode
from tests.crisis.bulletin_support import COMMUNICATOR, approved, declare
from tests.crisis.public.support import BASE_URL, CAP, public_id, text, valid_cap
from tests.crisis.public.test_versions import BOTH
from tests.support import FrozenClock


async def _mirrored(
    db: Database, settings: Settings, clock: FrozenClock, mode: CrisisMode, **changes: object
) -> tuple[str, list[tuple[str, Any]]]:
    """A bulletin to the public on the webhook, approved by another person, published the way
    the routes publish and dispatched: (its public id, what the receivers got — hook name,
    JSON payload)."""
    async with Sandbox() as sandbox:
        configured = settings.model_copy(
            update={
                "base_url": BASE_URL,
                "public_accounts": {"webhook": sandbox.webhook_url("prefecture")},
                "exercise_public_accounts": {"webhook": sandbox.webhook_url("bac-a-sable")},
            }
        )
        crisis_id = await declare(db, clock.now(), mode=mode)
        bulletin_id = await approved(
            db,
            clock.now(),
            crisis_id=crisis_id,
            policy=channel_policy(configured),
            audiences=["public"],
            channels=["webhook", "public_page"],
            **changes,
        )
        async with db.transaction() as session:
            caller = actions.Caller(COMMUNICATOR, configured, clock.now())
            await actions.publish(session, caller, bulletin_id)
        site = WebhookChannel(sandbox.config().webhook)  # type: ignore[arg-type]
        kinds: dict[ChannelKind, Channel] = {ChannelKind.WEBHOOK: site}
        worker = Dispatcher(db=db, real=kinds, exercise=kinds)
        await worker.run(clock.now())
        await worker.aclose()
    return await public_id(db, bulletin_id), list(sandbox.webhook.payloads)


async def test_the_prefectures_site_gets_the_public_url_and_the_cap_alert_of_a_public_bulletin(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    name, received = await _mirrored(db, settings, clock, CrisisMode.REAL, translations=BOTH)
    assert [hook for hook, _ in received] == ["prefecture"]
    payload = received[0][1]
    assert payload["audience"] == "public" and payload["exercise"] is False
    assert payload["public_url"] == f"{BASE_URL}/public/bulletins/{name}"
    assert payload["links"] == [payload["public_url"]]
    root = valid_cap(payload["cap"].encode("utf-8"))
    assert text(root, "cap:identifier") == f"tocsin-{name}"
    assert text(root, "cap:status") == "Actual"
    assert [text(i, "cap:language") for i in root.findall(f"{CAP}info")] == [
        "fr-FR",
        "en-GB",
        "fr-FR",
    ]
    assert text(root, "cap:info/cap:web") == payload["public_url"]
    assert set(payload) == {
        "idempotency_key",
        "subject",
        "text",
        "html",
        "audience",
        "exercise",
        "links",
        "public_url",
        "cap",
        "sent_at",
    }


async def test_a_drills_payload_is_marked_exercise_with_cap_status_exercise_on_the_sandbox_only(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    name, received = await _mirrored(db, settings, clock, CrisisMode.EXERCISE)
    assert [hook for hook, _ in received] == ["bac-a-sable"]  # never the prefecture's site
    payload = received[0][1]
    assert payload["exercise"] is True and payload["audience"] == "exercise"
    assert payload["text"].startswith("EXERCICE EXERCICE EXERCICE")
    assert payload["public_url"] == f"{BASE_URL}/public/bulletins/{name}?mode=exercise"
    root = valid_cap(payload["cap"].encode("utf-8"))
    assert text(root, "cap:status") == "Exercise"
    assert text(root, "cap:info/cap:headline").startswith("EXERCICE EXERCICE EXERCICE")


async def test_a_message_without_a_public_bulletin_carries_neither_cap_nor_public_url() -> None:
    async with Sandbox() as sandbox:
        site = WebhookChannel(sandbox.config().webhook)  # type: ignore[arg-type]
        message = Message(text="Essai du site", idempotency_key="essai-1", audience="staff")
        await site.send(message, Recipient(kind=ChannelKind.WEBHOOK, address=sandbox.webhook_url()))
        await site.aclose()
    [(_, payload)] = sandbox.webhook.payloads
    assert payload["cap"] is None and payload["public_url"] is None and payload["links"] == []
