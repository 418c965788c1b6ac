"""Replies « OK » on Telegram and by SMS, from the fakes to Tocsin over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from channels.sandbox import Sandbox
from channels.webhook import sign
from crisis import journal, replies
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.bulletin import confirmations, escalation, publication
from crisis.bulletin import workflow as bulletins
from crisis.cell import coverage, crises, lifecycle, paging
from crisis.dispatch.outbox import Delivery
from crisis.vocabulary import CrisisMode
from tests.crisis.app.reply_support import (
    EXERCISE_SMS_SECRET,
    SMS_SECRET,
    TELEGRAM_SECRET,
    answer,
    code_in,
    dispatch,
    tocsin_served,
    with_inbound_secrets,
)
from tests.crisis.app.web_session import log_in
from tests.crisis.bulletin_support import (
    COMMUNICATOR,
    POLICY,
    VALIDATOR,
    declare,
    draft,
    load_directory,
    person,
)
from tests.crisis.lifecycle_support import PREFECT, RULES, add_on_call, ordered_crisis
from tests.support import FrozenClock, make_user

MAYOR = "+33639980001"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


@pytest.fixture
def inbound(settings: Settings) -> Settings:
    return with_inbound_secrets(settings)


async def _publish(db: Database, clock: FrozenClock, crisis_id: int, **changes: object) -> int:
    values: dict[str, object] = {"audiences": ["officials"], "confirm_receipt": True}
    async with db.transaction() as session:
        bulletin = await bulletins.create(
            session,
            actor=COMMUNICATOR,
            crisis_id=crisis_id,
            draft=draft(**(values | changes)),
            policy=POLICY,
            now=clock.now(),
        )
        assert bulletin.id is not None
        await bulletins.submit(
            session, actor=COMMUNICATOR, bulletin_id=bulletin.id, policy=POLICY, now=clock.now()
        )
        await bulletins.approve(session, actor=VALIDATOR, bulletin_id=bulletin.id, now=clock.now())
        await publication.publish(
            session, actor=COMMUNICATOR, bulletin_id=bulletin.id, policy=POLICY, now=clock.now()
        )
        return bulletin.id


async def _deliveries(db: Database, bulletin_id: int) -> list[Delivery]:
    async with db.read() as session:
        query = select(Delivery).where(Delivery.bulletin_id == bulletin_id)
        return list((await session.exec(query.order_by(col(Delivery.id)))).all())


def _mayor(rows: list[Delivery], channel: str) -> Delivery:
    return next(
        d for d in rows if d.recipient_name == "Camille MAIRE-ABBEVILLE" and d.channel == channel
    )


async def _entries(db: Database, action: str) -> list[journal.JournalEntry]:
    async with db.read() as session:
        query = select(journal.JournalEntry).where(journal.JournalEntry.action == action)
        return list((await session.exec(query)).all())


async def test_a_staff_member_answering_ok_on_telegram_acknowledges_their_page_and_counts(
    db: Database, clock: FrozenClock, inbound: Settings, sandbox: Sandbox
) -> None:
    async with db.transaction() as session:
        for name, role, level, chat in (
            ("Camille Com1", "communication", 1, "7001"),
            ("Valérie Val1", "validator", 1, "7002"),
            ("Bruno Com2", "communication", 2, "7003"),
        ):
            await add_on_call(
                session,
                name=name,
                role=role,
                level=level,
                now=clock.now(),
                channel=("telegram", chat),
            )
        crisis_id = await ordered_crisis(session, now=clock.now())
    await dispatch(db, clock, inbound, sandbox)
    pages = {m.recipient: m for m in sandbox.telegram.state.received}
    assert set(pages) == {"7001", "7002"}
    assert "répondez OK " in pages["7001"].text and "{code_reponse}" not in pages["7001"].text
    async with tocsin_served(inbound, db, clock, sandbox):
        replied = await answer(
            sandbox, "telegram", to="7001", text="OK", reply_to=pages["7001"].meta["message_id"]
        )
        typed = await answer(sandbox, "telegram", to="7002", text="Oui.")
    assert replied["answer"]["outcome"] == typed["answer"]["outcome"] == "acknowledged"
    assert (
        sandbox.telegram.state.replies[0].meta["reply_to_message"]
        == (pages["7001"].meta["message_id"])
    )
    async with db.read() as session:
        acks = await paging.acknowledgements(session, crisis_ids=[crisis_id])
        due = await paging.escalation_due(
            session, crisis_id=crisis_id, now=clock.advance(minutes=11), after=RULES.page_escalation
        )
    assert {(a.name, a.via) for a in acks} == {("Camille Com1", "reply"), ("Valérie Val1", "reply")}
    assert paging.staffing_gaps(acks, minimum=RULES.min_staffing) == {}
    assert due == {}  # nobody above them is paged
    assert {e.actor for e in await _entries(db, "cell.acknowledged")} == {
        "Camille Com1",
        "Valérie Val1",
    }
    async with db.transaction() as session:
        crisis = await lifecycle.declare_operational(
            session, actor=PREFECT, crisis_id=crisis_id, rules=RULES, now=clock.now()
        )
    assert crisis.status == "cell_operational"


async def test_an_sms_ok_with_its_code_confirms_the_right_one_of_two_and_cancels_what_waits(
    db: Database, clock: FrozenClock, inbound: Settings, sandbox: Sandbox
) -> None:
    crisis_id = await declare(db, clock.now())
    await load_directory(db, clock.now())
    cascade = {"strategy": "cascade", "cascade_minutes": 60}
    first = await _publish(db, clock, crisis_id, **cascade)
    clock.advance(minutes=1)
    second = await _publish(db, clock, crisis_id, **cascade)
    async with db.transaction() as session:  # nothing delivered yet: both go on the call list
        await escalation.tick(
            session, now=clock.advance(minutes=15), to_call_after=timedelta(minutes=15)
        )
    await dispatch(db, clock, inbound, sandbox)
    texts = [m.text for m in sandbox.sms.state.received if m.recipient == MAYOR]
    first_sms = _mayor(await _deliveries(db, first), "sms")
    assert first_sms.id is not None and len(texts) == 2
    code = confirmations.reply_code(first_sms.id)
    assert code in {code_in(t) for t in texts} and len({code_in(t) for t in texts}) == 2
    async with tocsin_served(inbound, db, clock, sandbox):
        result = await answer(sandbox, "sms", to=MAYOR, text=f"ok {code}")
    assert result["answer"] == {
        "ok": True,
        "outcome": "confirmed",
        "reason": None,
        "delivery_id": first_sms.id,
    }
    rows = await _deliveries(db, first)
    confirmed = _mayor(rows, "sms")
    assert (confirmed.status, confirmed.confirm_method) == ("confirmed", "reply")
    assert confirmed.confirmed_by == "Camille MAIRE-ABBEVILLE"
    assert (_mayor(rows, "email").status, _mayor(rows, "phone").status) == (
        "cancelled",
        "cancelled",
    )
    untouched = await _deliveries(db, second)
    assert [_mayor(untouched, c).status for c in ("sms", "email", "phone")] == [
        "sent",
        "pending",
        "to_call",
    ]
    entry = (await _entries(db, "delivery.confirmed"))[0]
    assert entry.actor == "Camille MAIRE-ABBEVILLE" and '"method":"reply"' in entry.payload


async def _sent_to_officials(
    db: Database, clock: FrozenClock, settings: Settings, sandbox: Sandbox
) -> tuple[int, int, list[tuple[int | None, str]]]:
    """(crisis, bulletin, its deliveries' statuses) once a confirmation request went out."""
    crisis_id = await declare(db, clock.now())
    await load_directory(db, clock.now())
    bulletin_id = await _publish(db, clock, crisis_id)
    await dispatch(db, clock, settings, sandbox)
    return crisis_id, bulletin_id, [(d.id, d.status) for d in await _deliveries(db, bulletin_id)]


async def test_a_reply_with_a_wrong_secret_is_refused_and_changes_nothing(
    db: Database, clock: FrozenClock, inbound: Settings, sandbox: Sandbox
) -> None:
    _, bulletin_id, before = await _sent_to_officials(db, clock, inbound, sandbox)
    async with tocsin_served(inbound, db, clock, sandbox) as url:
        sandbox.answer_to(url, telegram_secret="wrong", sms_secret="wrong-too")
        result = await answer(sandbox, "sms", to=MAYOR, text="OK")
        async with httpx.AsyncClient(base_url=url) as client:
            unsigned = await client.post("/api/v1/inbound/sms", json={"from": MAYOR, "text": "OK"})
            nameless = await client.post("/api/v1/inbound/telegram", json={"update_id": 1})
    assert result["status"] == 403
    assert result["answer"]["error"]["code"] == "inbound_secret_refused"
    assert "wrong" not in str(result["answer"])
    assert (unsigned.status_code, nameless.status_code) == (401, 401)
    assert [(d.id, d.status) for d in await _deliveries(db, bulletin_id)] == before
    assert await _entries(db, "delivery.confirmed") == []


async def test_the_inbound_endpoints_check_the_secret_first_then_the_body(
    db: Database, clock: FrozenClock, inbound: Settings, sandbox: Sandbox
) -> None:
    tg = "/api/v1/inbound/telegram"
    closed = inbound.model_copy(
        update={"inbound_telegram_secret": None, "exercise_inbound_telegram_secret": None}
    )
    async with tocsin_served(inbound, db, clock, sandbox) as url, httpx.AsyncClient() as client:
        missing = await client.post(url + tg, json={"update_id": 1})
        wrong = await client.post(url + tg, json={"update_id": 1}, headers=_tg("not-the-secret"))
        malformed = await client.post(url + tg, content=b'{"message": "OK"}', headers=_tg())
        sticker = await client.post(url + tg, json={"update_id": 2, "message": None}, headers=_tg())
        sms = await client.post(url + "/api/v1/inbound/sms", content=b"{}", headers=_signed(b"{}"))
    async with tocsin_served(closed, db, clock, sandbox) as url, httpx.AsyncClient() as client:
        off = await client.post(url + tg, json={"update_id": 1}, headers=_tg())
    assert (missing.status_code, wrong.status_code) == (401, 403)
    assert wrong.json()["error"]["message"] == "Secret du fournisseur Telegram refusé."
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (422, "invalid_body")
    assert (sticker.status_code, sticker.json()["outcome"]) == (200, "ignored")
    assert sms.status_code == 422
    assert (off.status_code, off.json()["error"]["code"]) == (403, "inbound_not_configured")
    assert await _entries(db, "reply.unrecognised") == []
    refusals = await _entries(db, "refused")
    assert refusals and all(TELEGRAM_SECRET not in e.payload for e in refusals)


def _tg(secret: str = TELEGRAM_SECRET) -> dict[str, str]:
    return {"X-Telegram-Bot-Api-Secret-Token": secret}


def _signed(body: bytes) -> dict[str, str]:
    return {"X-Tocsin-Signature": sign(secret=SMS_SECRET, body=body)}


async def test_an_unknown_sender_is_journaled_as_unrecognised_and_changes_nothing(
    db: Database, clock: FrozenClock, inbound: Settings, sandbox: Sandbox
) -> None:
    crisis_id, bulletin_id, before = await _sent_to_officials(db, clock, inbound, sandbox)
    operator = await make_user(db, clock, "operatrice", "operator")
    async with tocsin_served(inbound, db, clock, sandbox) as url:
        result = await answer(sandbox, "sms", to="+33600000042", text="OK 1234")
        async with httpx.AsyncClient(base_url=url) as browser:
            await log_in(browser, operator.login, operator.password)
            page = (await browser.get(f"/evenements/{crisis_id}")).text
    assert "Réponses non reconnues" in page and "SMS de +336…42 : « OK 1234 »" in page
    assert "+33600000042" not in page  # an operator has no need of the number (issue 15 item 5)
    assert result["answer"]["outcome"] == "unrecognised"
    [entry] = await _entries(db, "reply.unrecognised")
    assert entry.crisis_id is None and '"sender":"+33600000042"' in entry.payload
    assert [(d.id, d.status) for d in await _deliveries(db, bulletin_id)] == before
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        listed = await replies.unrecognised(session, crisis=crisis)
    assert [(r.sender, r.text) for r in listed] == [("+33600000042", "OK 1234")]


async def test_an_exercise_reply_never_confirms_a_real_delivery(
    db: Database, clock: FrozenClock, inbound: Settings, sandbox: Sandbox
) -> None:
    real_id = await declare(db, clock.now())
    drill_id = await declare(db, clock.now(), mode=CrisisMode.EXERCISE)
    player = person("joueur-maire", "exercise", [("sms", MAYOR)])  # the mayor plays, same phone
    mayor = person("maire-abbeville", "officials", [("sms", MAYOR)])
    await load_directory(db, clock.now(), [mayor, player])
    real = await _publish(db, clock, real_id)
    drill = await _publish(db, clock, drill_id)
    await dispatch(db, clock, inbound, sandbox)
    [real_sms] = [d for d in await _deliveries(db, real) if d.channel == "sms"]
    assert real_sms.id is not None and real_sms.status == "sent"
    async with tocsin_served(inbound, db, clock, sandbox) as url:
        sandbox.answer_to(url, sms_secret=EXERCISE_SMS_SECRET)
        wrong_code = await answer(
            sandbox, "sms", to=MAYOR, text=f"OK {confirmations.reply_code(real_sms.id)}"
        )
        plain = await answer(sandbox, "sms", to=MAYOR, text="OK")
        after_drill = {d.channel: d.status for d in await _deliveries(db, real)}
        sandbox.answer_to(url, sms_secret=SMS_SECRET)
        genuine = await answer(sandbox, "sms", to=MAYOR, text="OK")
    assert wrong_code["answer"]["outcome"] == "unrecognised"
    assert plain["answer"]["outcome"] == "confirmed"
    [drill_sms] = [d for d in await _deliveries(db, drill) if d.channel == "sms"]
    assert plain["answer"]["delivery_id"] == drill_sms.id and drill_sms.status == "confirmed"
    assert after_drill["sms"] == "sent"
    assert (genuine["answer"]["outcome"], genuine["answer"]["delivery_id"]) == (
        "confirmed",
        real_sms.id,
    )


async def test_es48_coverage_counts_an_official_who_confirmed_by_reply(
    db: Database, clock: FrozenClock, inbound: Settings, sandbox: Sandbox
) -> None:
    crisis_id = await declare(db, clock.now())
    since = clock.now()
    mayor = person("maire-abbeville", "officials", [("sms", MAYOR)])
    await load_directory(db, clock.now(), [mayor])
    bulletin_id = await _publish(db, clock, crisis_id, channels=["sms"])
    await dispatch(db, clock, inbound, sandbox)
    clock.advance(minutes=3)
    async with tocsin_served(inbound, db, clock, sandbox):
        await answer(sandbox, "sms", to=MAYOR, text="OK")
    [sms] = await _deliveries(db, bulletin_id)
    async with db.read() as session:
        covered = await coverage.es48(session, crisis_id=crisis_id, since=since, exercise=False)
    assert sms.confirm_method == "reply"
    assert (covered.officials.reached, covered.officials.total) == (1, 1)
    assert covered.officials.covered_at == clock.now()  # the reply's instant
