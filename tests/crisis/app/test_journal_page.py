"""The crisis' main courante page: « Ajouter à la main courante », the filter, and each entry's
detail in French (issue 18 items 10 and 11)."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from crisis import journal, journal_verification
from crisis.app.db import Database
from crisis.app.web import journal_pages
from tests.crisis.app.web_session import csrf_of, log_in
from tests.support import FrozenClock, TestUser, make_user

CRUE = {"title": "Crue de l'Avre", "kind": "crue", "mode": "real", "communes": ["80001"]}


async def _crisis(client: httpx.AsyncClient, prefect: TestUser, **changes: str) -> int:
    answer = await client.post("/api/v1/crises", json=CRUE | changes, headers=prefect.headers)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def test_a_communicator_adds_an_information_with_its_source_and_reads_it_in_the_journal(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    com = await make_user(db, clock, "com", "communicator")
    crisis_id = await _crisis(client, prefect)
    csrf = await log_in(client, "com", com.password)
    clock.advance(minutes=30)
    form = {
        "csrf_token": csrf,
        "kind": "information",
        "text": "Le maire signale la RD 930 coupée",
        "occurred_at": "2026-11-28T15:20",  # Paris time: 14 h 20 UTC
        "source": "appel du maire d'Abbeville",
    }
    written = await client.post(f"/evenements/{crisis_id}/main-courante", data=form)
    assert written.status_code == 303
    page = await client.get(f"/evenements/{crisis_id}/main-courante")
    shown = _text(page.text)
    assert "Entrée ajoutée à la main courante." in shown
    assert (
        "Information reçue Le maire signale la RD 930 coupée "
        "Heure du fait : 28/11/2026 à 15 h 20 Source : appel du maire d'Abbeville"
    ) in shown
    async with db.read() as session:
        entries = await journal.for_crisis(session, crisis_id=crisis_id)
        assert entries[-1].action == "cabinet.information" and entries[-1].actor == "com"
        assert (await journal_verification.verify(session, crisis_id=crisis_id)).ok


async def test_a_future_time_is_refused_in_french_and_what_was_typed_comes_back(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    crisis_id = await _crisis(client, prefect)
    csrf = await log_in(client, "prefet", prefect.password)
    form = {
        "csrf_token": csrf,
        "kind": "decision",
        "text": "Fermeture du pont de Montdidier",
        "occurred_at": "2026-11-28T16:00",  # one hour ahead of now (15 h 00, Paris)
        "source": "COD",
    }
    refused = await client.post(f"/evenements/{crisis_id}/main-courante", data=form)
    assert refused.status_code == 422
    assert "L'heure du fait ne peut pas être dans le futur." in _text(refused.text)
    assert ">Fermeture du pont de Montdidier</textarea>" in refused.text
    assert 'value="2026-11-28T16:00"' in refused.text and 'value="COD"' in refused.text
    async with db.read() as session:
        actions = [e.action for e in await journal.for_crisis(session, crisis_id=crisis_id)]
    assert not any(a.startswith("cabinet.") for a in actions)


async def test_a_closed_crisis_offers_no_form_and_refuses_a_post_with_409(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    crisis_id = await _crisis(client, prefect)
    csrf = await log_in(client, "prefet", prefect.password)
    page = await client.get(f"/evenements/{crisis_id}/main-courante")
    assert "Ajouter à la main courante" in page.text
    assert (
        await client.post(f"/api/v1/crises/{crisis_id}/close", headers=prefect.headers)
    ).is_success
    page = await client.get(f"/evenements/{crisis_id}/main-courante")
    assert "Ajouter à la main courante" not in page.text
    form = {"csrf_token": csrf_of(page.text), "kind": "decision", "text": "Trop tard"}
    refused = await client.post(f"/evenements/{crisis_id}/main-courante", data=form)
    assert refused.status_code == 409
    assert "L'événement est clos" in _text(refused.text)
    assert csrf


async def test_a_trainer_gets_the_form_in_an_exercise_only(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    trainer = await make_user(db, clock, "formateur", "trainer")
    real = await _crisis(client, prefect)
    drill = await _crisis(client, prefect, mode="exercise", title="Exercice crue")
    headers = trainer.headers
    real_page = await client.get(f"/evenements/{real}/main-courante", headers=headers)
    drill_page = await client.get(f"/evenements/{drill}/main-courante", headers=headers)
    assert "Ajouter à la main courante" not in real_page.text
    assert "Ajouter à la main courante" in drill_page.text


async def test_the_page_filters_by_kind_author_and_words(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    com = await make_user(db, clock, "com", "communicator")
    crisis_id = await _crisis(client, prefect)
    for user, kind, text in (
        (prefect, "decision", "Évacuation du camping"),
        (com, "action", "Point presse à 17 h"),
    ):
        body = {"kind": kind, "text": text}
        answer = await client.post(
            f"/api/v1/crises/{crisis_id}/journal", json=body, headers=user.headers
        )
        assert answer.status_code == 201
    path = f"/evenements/{crisis_id}/main-courante"
    decisions = _text(
        (await client.get(path, params={"kind": "decision"}, headers=com.headers)).text
    )
    assert "Évacuation du camping" in decisions and "Point presse" not in decisions
    assert "1 entrée sur" in decisions
    by_com = _text((await client.get(path, params={"author": "com"}, headers=com.headers)).text)
    assert "Point presse" in by_com and "Évacuation" not in by_com
    words = _text((await client.get(path, params={"q": "CAMPING"}, headers=com.headers)).text)
    assert "Évacuation du camping" in words and "Événement déclaré" not in words
    unknown = await client.get(path, params={"kind": "rumeur"}, headers=com.headers)
    assert unknown.status_code == 200 and "Type d'entrée inconnu" in _text(unknown.text)


async def test_the_crisis_page_shows_the_journals_last_fifty_entries_and_how_many_in_all(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    crisis_id = await _crisis(client, prefect)
    for n in range(1, 61):
        body = {"kind": "information", "text": f"Relevé de la station n° {n:02d}"}
        answer = await client.post(
            f"/api/v1/crises/{crisis_id}/journal", json=body, headers=prefect.headers
        )
        assert answer.status_code == 201
    async with db.read() as session:
        total = len(await journal.for_crisis(session, crisis_id=crisis_id))
    assert total > 60  # the declaration's entries, then the readings: the last 50 are 11 to 60
    for path in (f"/evenements/{crisis_id}", f"/fragments/evenements/{crisis_id}/main-courante"):
        shown = _text((await client.get(path, headers=prefect.headers)).text)
        assert f"Les 50 dernières entrées sur {total}, de la plus ancienne" in shown
        assert "Relevé de la station n° 11" in shown and "Relevé de la station n° 60" in shown
        assert "n° 10" not in shown and "Événement déclaré" not in shown
        assert shown.index("n° 11") < shown.index("n° 60")
    journal_page = f"/evenements/{crisis_id}/main-courante"
    full = _text((await client.get(journal_page, headers=prefect.headers)).text)
    assert "Relevé de la station n° 01" in full and "dernières entrées" not in full
    monkeypatch.setattr(journal_pages, "JOURNAL_PAGE_ENTRIES", 20)
    cut = _text((await client.get(journal_page, headers=prefect.headers)).text)
    assert f"Les 20 dernières entrées sur {total}" in cut and f"{total} entrées, aucune" in cut
    assert "n° 40" not in cut and "n° 41" in cut
