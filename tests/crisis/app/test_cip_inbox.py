"""Issue 20 item 4: e-mails to the CIP's address, received by Tocsin's SMTP endpoint (real SMTP
with aiosmtplib), become written requests of the open CIP; the rest is refused, nothing kept."""

from __future__ import annotations

import aiosmtplib
import httpx
import pytest
import sqlalchemy as sa

from channels.sandbox.cip_inbox import send_to_cip
from crisis.app.db import Database
from crisis.app.settings import Settings
from tests.crisis.cip.cip_support import cip_world, opened
from tests.crisis.cip.request_support import CITIZEN, inbox, mail, send
from tests.support import FrozenClock, make_user


async def _count(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(sa.text("SELECT count(*) FROM cip_request"))).scalar())


async def test_a_mail_to_the_cip_address_becomes_a_request_of_the_open_cip_due_in_24_hours(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    async with inbox(settings, db, clock) as port:
        await send(port, mail())
    listing = await client.get(f"{world.base}/requests", headers=world.operators[0].headers)
    assert listing.status_code == 200, listing.text
    [request] = listing.json()["items"]
    assert request["sender"] == CITIZEN and request["sender_name"] == "Jeanne Riveraine"
    assert request["subject"] == "Route de Pont-Rémy" and "rouverte" in request["body"]
    assert request["status"] == "new" and request["due_at"] == "2026-11-29T14:00:00+00:00"
    trainer = await make_user(db, clock, "formateur", "trainer")
    hidden = (await client.get(f"{world.base}/requests", headers=trainer.headers)).json()
    assert hidden["items"][0]["sender"] == "j…@exemple.test"
    assert hidden["items"][0]["sender_name"] == "(masqué)"
    journal = await client.get(
        f"/api/v1/crises/{world.crisis_id}/journal", headers=world.prefect.headers
    )
    assert "cip.request_received" in journal.text and CITIZEN not in journal.text


async def test_a_mail_for_another_address_is_refused_at_rcpt_and_nothing_is_kept(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    async with inbox(settings, db, clock) as port:
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await send(port, mail(to="prefet@somme.gouv.test"))
    assert refused.value.recipients[0].code == 550
    assert await _count(db) == 0


async def test_an_oversized_mail_is_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    async with inbox(settings, db, clock) as port:
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await send(port, mail(body="inondation " * 5000))
    assert refused.value.code == 552
    assert await _count(db) == 0


async def test_a_mail_while_no_cip_is_open_is_bounced_with_the_reason_and_nothing_is_kept(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    await cip_world(client, db, clock)  # a crisis, no CIP ordered
    async with inbox(settings, db, clock) as port:
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await send(port, mail())
    assert refused.value.code == 550
    assert "Aucune cellule d'information du public" in refused.value.message
    assert await _count(db) == 0


async def test_a_plus_address_or_a_subject_token_routes_the_mail_to_that_crisis_cip(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    first = await cip_world(client, db, clock)
    await opened(client, first)
    body = {"title": "Pollution", "kind": "pollution", "mode": "real", "communes": ["80001"]}
    other = await client.post("/api/v1/crises", json=body, headers=first.prefect.headers)
    other_id = other.json()["id"]
    clock.advance(minutes=5)
    ordered = await client.post(
        f"/api/v1/crises/{other_id}/cip",
        json={"number": "0800100300"},
        headers=first.prefect.headers,
    )
    assert ordered.status_code == 201, ordered.text
    async with inbox(settings, db, clock) as port:
        await send(port, mail(to=f"cip+{first.crisis_id}@somme.gouv.test"))
        await send(port, mail(subject=f"Re: votre question [CIP-{first.crisis_id}]"))
        await send(port, mail(subject="Sans repère"))  # the CIP most recently ordered
        with pytest.raises(aiosmtplib.SMTPDataError):
            await send(port, mail(to="cip+999@somme.gouv.test"))
    headers = first.prefect.headers
    firsts = (await client.get(f"{first.base}/requests", headers=headers)).json()["items"]
    others = (await client.get(f"/api/v1/crises/{other_id}/cip/requests", headers=headers)).json()[
        "items"
    ]
    assert len(firsts) == 2 and [r["subject"] for r in others] == ["Sans repère"]


async def test_the_sandbox_writes_to_the_cip_by_real_smtp_and_shows_what_the_endpoint_said(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    async with inbox(settings, db, clock) as port:
        urls = {"cip_inbox": f"smtp://127.0.0.1:{port}", "cip_address": "cip@somme.gouv.test"}
        said = await send_to_cip(urls, sender=CITIZEN, subject="Digue", body="La digue tient ?")
        refused = await send_to_cip(
            urls, sender=CITIZEN, subject="Digue", body="?", to="autre@somme.gouv.test"
        )
    assert said.startswith("accepté") and "Demande enregistree" in said
    assert refused.startswith("refusé")
    listing = await client.get(f"{world.base}/requests", headers=world.prefect.headers)
    assert [r["subject"] for r in listing.json()["items"]] == ["Digue"]
