"""A running sandbox shared by other processes: where its fakes listen, and the demo's two
orders (channels/sandbox/control.py)."""

from __future__ import annotations

import httpx
import pytest

from channels.sandbox import Sandbox, sandbox_config

CIP = "cip-partagee@somme.gouv.test"


async def test_another_process_reads_where_the_fakes_listen_and_gets_the_same_channels(
    sandbox: Sandbox,
) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{sandbox.urls['dashboard']}/_sandbox/urls")
    assert answer.status_code == 200
    assert answer.json() == sandbox.urls
    assert sandbox_config(answer.json()) == sandbox.config()


async def test_the_demo_orders_set_where_replies_go_and_where_to_write_to_the_cip(
    sandbox: Sandbox,
) -> None:
    orders = f"{sandbox.urls['dashboard']}/_sandbox/orders"
    async with httpx.AsyncClient() as client:
        answered = await client.post(orders, json={"answer_to": "http://127.0.0.1:8123"})
        published = [
            await client.post(orders, json={"publish_url": {"name": name, "url": url}})
            for name, url in (("cip_inbox", "smtp://127.0.0.1:2626"), ("cip_address", CIP))
        ]
        page = await client.get(f"{sandbox.urls['dashboard']}/_sandbox/cip")
    assert [answered.status_code] + [p.status_code for p in published] == [204, 204, 204]
    assert sandbox.telegram.reply_target is not None
    assert sandbox.telegram.reply_target.url == "http://127.0.0.1:8123/api/v1/inbound/telegram"
    assert sandbox.sms.reply_target is not None
    assert sandbox.sms.reply_target.url == "http://127.0.0.1:8123/api/v1/inbound/sms"
    assert sandbox.urls["cip_inbox"] == "smtp://127.0.0.1:2626"
    assert CIP in page.text


@pytest.mark.parametrize(
    "order",
    [
        {"publish_url": {"name": "smtp", "url": "smtp://elsewhere.example:25"}},
        {"publish_url": {"name": "cip_address", "url": "javascript:alert(1)"}},
        {"answer_to": "ftp://127.0.0.1/"},
        {"answer_to": 8000},
        {"stop": True},
        ["answer_to", "http://127.0.0.1:8000"],
    ],
)
async def test_the_sandbox_refuses_any_other_order_and_changes_nothing(
    sandbox: Sandbox, order: object
) -> None:
    before = dict(sandbox.urls)
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{sandbox.urls['dashboard']}/_sandbox/orders", json=order)
    assert answer.status_code == 400
    assert sandbox.urls == before
    assert sandbox.telegram.reply_target is None


async def test_an_order_that_is_not_json_is_refused_with_a_reason(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{sandbox.urls['dashboard']}/_sandbox/orders", content=b"answer_to=x"
        )
    assert answer.status_code == 400
    assert answer.json() == {"error": "JSON attendu"}
