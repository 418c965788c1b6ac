"""The FR-Alert hand-off (issue 21 item 5): Tocsin prepares the text, the communes and the level
for the State's portal, the prefect records the broadcast once, in the journal, and the
broadcast covers ES48's public audience at its time."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlmodel import select

from crisis.app.db import Database
from crisis.cell import coverage, fr_alert
from crisis.journal import JournalEntry
from crisis.vocabulary import CrisisMode
from tests.crisis.app.web_session import csrf_of, log_in
from tests.crisis.bulletin_support import declare, load_directory, published
from tests.support import FrozenClock, TestUser, make_user

LONG_BODY = "Montez dans les étages et restez à l'écoute de France Bleu Picardie. " * 30


async def _public_bulletin(
    db: Database, clock: FrozenClock, *, mode: CrisisMode = CrisisMode.REAL, **changes: object
) -> tuple[int, int]:
    """(crisis id, bulletin id) of a bulletin published to the public of Abbeville and Amiens."""
    crisis_id = await declare(db, clock.now(), mode=mode)
    await load_directory(db, clock.now())
    fields: dict[str, object] = {"audiences": ["public"], "communes": ["80001", "80021"]}
    bulletin_id = await published(
        db, clock.now(), crisis_id=crisis_id, title="Crue : évacuez", **(fields | changes)
    )
    return crisis_id, bulletin_id


async def _entries(db: Database) -> list[JournalEntry]:
    async with db.read() as session:
        query = select(JournalEntry).where(JournalEntry.action == fr_alert.ACTION)
        return list((await session.exec(query)).all())


async def _prefect(db: Database, clock: FrozenClock) -> TestUser:
    return await make_user(db, clock, "prefet", "prefect")


def test_the_text_is_cut_at_a_word_within_the_limit_and_says_so() -> None:
    text, cut = fr_alert.alert_text("Crue : évacuez", LONG_BODY, max_chars=200)
    assert cut and len(text) <= 200 and text.endswith("…")
    assert text.startswith("Crue : évacuez\nMontez dans les étages")
    assert text[:-1].split()[-1] in LONG_BODY.split()  # whole words only
    short, short_cut = fr_alert.alert_text("Crue", "  Restez   chez vous. ", max_chars=200)
    assert (short, short_cut) == ("Crue\nRestez chez vous.", False)


async def test_the_prefect_reads_the_prepared_text_communes_and_level(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    _crisis, bulletin = await _public_bulletin(db, clock)
    prefect = await _prefect(db, clock)
    answer = await client.get(f"/api/v1/bulletins/{bulletin}/fr-alert", headers=prefect.headers)
    assert answer.status_code == 200, answer.text
    prepared = answer.json()
    assert prepared["max_chars"] == 615 and prepared["truncated"] is False
    assert prepared["text"].startswith("Crue : évacuez\n")
    assert prepared["length"] == len(prepared["text"]) <= 615
    assert [c["code"] for c in prepared["communes"]] == ["80001", "80021"]
    assert prepared["communes"][0]["name"] == "Abbeville"
    assert prepared["level"] in fr_alert.LEVELS.values()
    assert prepared["broadcast"] is None


async def test_only_the_prefect_sees_or_records_the_hand_off(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    _crisis, bulletin = await _public_bulletin(db, clock)
    com = await make_user(db, clock, "com", "communicator")
    url = f"/api/v1/bulletins/{bulletin}/fr-alert"
    assert (await client.get(url, headers=com.headers)).status_code == 403
    form = {"reference": "FRA-1", "broadcast_at": clock.now().isoformat()}
    assert (await client.post(url, json=form, headers=com.headers)).status_code == 403
    assert (
        await client.get(f"/communiques/{bulletin}/fr-alert", headers=com.headers)
    ).status_code == 403
    assert await _entries(db) == []


async def test_a_recorded_broadcast_is_journaled_and_covers_the_public_at_its_time(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, bulletin = await _public_bulletin(db, clock)
    prefect = await _prefect(db, clock)
    cod = clock.advance(minutes=1)  # the public channels' sends of the publication are before it
    async with db.read() as session:
        before = await coverage.es48(session, crisis_id=crisis_id, since=cod, exercise=False)
    assert before.public.covered_at is None
    broadcast_at = clock.now() + timedelta(minutes=4)
    clock.advance(minutes=10)
    answer = await client.post(
        f"/api/v1/bulletins/{bulletin}/fr-alert",
        json={"reference": "FRA-80-2026-0042", "broadcast_at": broadcast_at.isoformat()},
        headers=prefect.headers,
    )
    assert answer.status_code == 201, answer.text
    [entry] = await _entries(db)
    assert (entry.actor, entry.crisis_id, entry.at) == ("prefet", crisis_id, clock.now())
    assert '"reference":"FRA-80-2026-0042"' in entry.payload
    async with db.read() as session:
        after = await coverage.es48(session, crisis_id=crisis_id, since=cod, exercise=False)
        later = await coverage.es48(
            session, crisis_id=crisis_id, since=broadcast_at + timedelta(seconds=1), exercise=False
        )
    assert after.public.covered_at == broadcast_at
    assert later.public.covered_at is None  # a broadcast before the COD does not count
    shown = await client.get(f"/api/v1/bulletins/{bulletin}/fr-alert", headers=prefect.headers)
    assert shown.json()["broadcast"]["reference"] == "FRA-80-2026-0042"


async def test_bad_records_are_refused_in_french_and_write_nothing(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, bulletin = await _public_bulletin(db, clock)
    mayors = await published(
        db, clock.now(), crisis_id=crisis_id, title="Note aux maires", audiences=["officials"]
    )
    prefect = await _prefect(db, clock)
    now = clock.now()

    async def post(bulletin_id: int, reference: str, at: datetime) -> httpx.Response:
        return await client.post(
            f"/api/v1/bulletins/{bulletin_id}/fr-alert",
            json={"reference": reference, "broadcast_at": at.isoformat()},
            headers=prefect.headers,
        )

    blank = await post(bulletin, "  ", now)
    assert blank.status_code == 422 and "référence" in blank.text
    future = await post(bulletin, "FRA-1", now + timedelta(minutes=1))
    assert future.status_code == 422 and "futur" in future.text
    early = await post(bulletin, "FRA-1", now - timedelta(minutes=5))
    assert early.status_code == 422 and "précède la publication" in early.text
    not_public = await post(mayors, "FRA-1", now)
    assert not_public.status_code == 409 and "population" in not_public.text
    assert await _entries(db) == []
    assert (await post(bulletin, "FRA-1", now)).status_code == 201
    again = await post(bulletin, "FRA-2", now)
    assert again.status_code == 409 and "déjà enregistrée" in again.text
    assert len(await _entries(db)) == 1


async def test_an_exercise_bulletin_never_goes_to_fr_alert(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, bulletin = await _public_bulletin(db, clock, mode=CrisisMode.EXERCISE)
    prefect = await _prefect(db, clock)
    url = f"/api/v1/bulletins/{bulletin}/fr-alert"
    assert (await client.get(url, headers=prefect.headers)).status_code == 409
    refused = await client.post(
        url,
        json={"reference": "FRA-1", "broadcast_at": clock.now().isoformat()},
        headers=prefect.headers,
    )
    assert refused.status_code == 409 and "exercice" in refused.text
    assert await _entries(db) == []
    async with db.read() as session:
        assert (
            await fr_alert.first_broadcast(
                session, crisis_id=crisis_id, since=clock.now(), exercise=True
            )
            is None
        )


async def test_the_prefect_records_the_broadcast_from_the_checklist_page(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    _crisis, bulletin = await _public_bulletin(db, clock)
    prefect = await _prefect(db, clock)
    csrf = await log_in(client, prefect.login, prefect.password)
    bulletin_page = await client.get(f"/communiques/{bulletin}")
    assert f'href="/communiques/{bulletin}/fr-alert"' in bulletin_page.text
    page = await client.get(f"/communiques/{bulletin}/fr-alert")
    assert page.status_code == 200
    assert "Crue : évacuez" in page.text and "Abbeville (80001)" in page.text
    assert "caractères sur 615 au plus" in page.text
    clock.advance(minutes=5)
    answer = await client.post(
        f"/communiques/{bulletin}/fr-alert",
        data={"reference": "FRA-80-7", "broadcast_at": "2026-11-28T15:02", "csrf_token": csrf},
    )
    assert answer.status_code == 303
    done = await client.get(answer.headers["location"])
    assert "Diffusion FR-Alert enregistrée" in done.text and "FRA-80-7" in done.text
    assert csrf_of(page.text)
    [entry] = await _entries(db)
    assert '"broadcast_at":"2026-11-28T15:02:00+01:00"' in entry.payload
