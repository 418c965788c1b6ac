"""The Telegram and SMS fakes play a person answering, over real HTTP to a webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.sandbox import WEBHOOK_SECRET, Sandbox
from channels.sandbox.http import HttpServer
from channels.sandbox.replies import ReplyTarget


class Receiver:
    """A real HTTP endpoint standing for Tocsin's webhook: records what it is posted."""

    def __init__(self) -> None:
        self.posted: list[tuple[dict[str, str], Any]] = []
        self.server = HttpServer(Starlette(routes=[Route("/in", self._in, methods=["POST"])]))

    async def _in(self, request: Request) -> Response:
        self.posted.append((dict(request.headers), await request.json()))
        return JSONResponse({"ok": True, "outcome": "acknowledged"})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    running = Receiver()
    await running.server.start()
    yield running
    await running.server.stop()


async def _reply(sandbox: Sandbox, fake: str, **form: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(f"{sandbox.urls[fake]}/_sandbox/reply", json=form)


async def test_the_fake_bot_api_records_each_message_id_and_the_message_it_answers(
    sandbox: Sandbox,
) -> None:
    url = f"{sandbox.urls['telegram']}/bot{sandbox.telegram.token}/sendMessage"
    async with httpx.AsyncClient() as client:
        first = (await client.post(url, json={"chat_id": "42", "text": "Page"})).json()
        await client.post(url, json={"chat_id": "43", "text": "Suite", "reply_to_message_id": 1})
    first_id = str(first["result"]["message_id"])
    sent = sandbox.telegram.state.received
    assert [m.meta.get("message_id") for m in sent] == [first_id, str(int(first_id) + 1)]
    assert "reply_to_message" not in sent[0].meta and sent[1].meta["reply_to_message"] == "1"


async def test_a_simulated_telegram_answer_reaches_the_webhook_as_an_update_with_its_token(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    sandbox.telegram.reply_target = ReplyTarget(
        url=f"{receiver.server.url}/in", secret="jeton-du-webhook"
    )
    answered = await _reply(sandbox, "telegram", to="42", text="OK 4821", reply_to="7")
    assert answered.json() == {"status": 200, "answer": {"ok": True, "outcome": "acknowledged"}}
    [(headers, update)] = receiver.posted
    assert headers["x-telegram-bot-api-secret-token"] == "jeton-du-webhook"
    message = update["message"]
    assert (message["chat"]["id"], message["text"]) == (42, "OK 4821")
    assert message["reply_to_message"]["message_id"] == 7 and "update_id" in update
    [recorded] = sandbox.telegram.state.replies
    assert recorded.meta == {"reply_to_message": "7", "outcome": "acknowledged"}


async def test_a_simulated_sms_answer_is_signed_like_our_webhooks(sandbox: Sandbox) -> None:
    # The webhook fake checks X-Tocsin-Signature with its secret: it stands for Tocsin here.
    sandbox.sms.reply_target = ReplyTarget(url=sandbox.webhook_url("tocsin"), secret=WEBHOOK_SECRET)
    answered = await _reply(sandbox, "sms", to="+33612345678", text="oui")
    assert answered.json()["status"] == 200
    assert [m.text for m in sandbox.webhook.state.received] == ["oui"]
    sandbox.sms.reply_target = ReplyTarget(url=sandbox.webhook_url("tocsin"), secret="autre")
    refused = await _reply(sandbox, "sms", to="+33612345678", text="oui")
    assert refused.json()["status"] == 401 and len(sandbox.webhook.state.received) == 1


async def test_an_answer_with_nowhere_to_go_is_reported_and_bad_fields_are_refused(
    sandbox: Sandbox,
) -> None:
    lost = await _reply(sandbox, "sms", to="+33612345678", text="OK")
    not_a_number = await _reply(sandbox, "sms", to="0612345678", text="OK")
    not_a_chat = await _reply(sandbox, "telegram", to="@prefet80", text="OK")
    assert lost.status_code == 502 and "aucune adresse" in lost.json()["error"]
    assert (not_a_number.status_code, not_a_chat.status_code) == (400, 400)


async def test_the_sandbox_page_offers_to_answer_the_last_messages_with_their_code(
    sandbox: Sandbox,
) -> None:
    url = f"{sandbox.urls['telegram']}/bot{sandbox.telegram.token}/sendMessage"
    async with httpx.AsyncClient() as client:
        await client.post(url, json={"chat_id": "42", "text": "Répondez OK\u00a04821 ou …"})
        await _reply(sandbox, "telegram", to="42", text="OK 4821")  # nowhere to go yet
        page = (await client.get(sandbox.urls["dashboard"] + "/")).text
    assert "Simuler une réponse" in page
    assert f'action="{sandbox.urls["telegram"]}/_sandbox/reply"' in page
    assert 'name="text" value="OK 4821"' in page and 'name="reply_to" value="' in page
    assert "42 : « OK 4821 » → aucune adresse de Tocsin pour les réponses" in page
