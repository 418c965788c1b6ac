"""The closing summary as a downloadable PDF, read back with pypdf."""

from __future__ import annotations

import html
import io
import logging
import re
from datetime import timedelta

import httpx
import pytest
from pypdf import PdfReader

from crisis import journal
from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.app.summary_pdf import french_spacing, render
from crisis.app.summary_view import NO_CHECKPOINT, SummaryView, TimelineRow
from tests.crisis.app.web_session import log_in
from tests.crisis.bulletin_support import ABBEVILLE, load_directory, published
from tests.crisis.lifecycle_support import roster
from tests.support import FrozenClock, TestUser, make_user

BLOC_MARQUE = "PRÉFET DE LA SOMME Liberté Égalité Fraternité"
TITLES = ("Crue de la Somme à Abbeville", "Décrue amorcée : routes rouvertes")


def _pages(content: bytes) -> list[str]:
    """Each page's text, with the no-break spaces of French typography read as spaces."""
    reader = PdfReader(io.BytesIO(content))
    return [
        page.extract_text().replace("\u202f", " ").replace("\u00a0", " ") for page in reader.pages
    ]


async def _crisis(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    *,
    mode: str,
    close: bool = True,
    minutes_to_close: int = 70,
) -> tuple[int, TestUser]:
    """Declared at 15 h 00 (Paris), ES47 met at 15 h 28, COD at 15 h 23, two bulletins,
    closed at 16 h 38 with ES48 missed."""
    prefect = await make_user(db, clock, "prefet", "prefect")
    com = await make_user(db, clock, "com", "communicator")
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
    await load_directory(db, clock.now())
    body = {"title": "Crue de la Somme", "kind": "crue", "mode": mode, "communes": [ABBEVILLE]}
    cid = (await client.post("/api/v1/crises", json=body, headers=prefect.headers)).json()["id"]
    clock.advance(minutes=8)
    for name, role in (("Camille Com1", "communication"), ("Valérie Val1", "validator")):
        await client.post(
            f"/api/v1/crises/{cid}/cell/acknowledgements",
            json={"contact": people[name], "role": role},
            headers=prefect.headers,
        )
    clock.advance(minutes=20)
    assert (
        await client.post(f"/api/v1/crises/{cid}/cell/operational", headers=com.headers)
    ).status_code == 200
    cod = {
        "activated_at": (clock.now() - timedelta(minutes=5)).isoformat(),
        "synergi_ref": "SYN-80-2026-0042",
        "decided_by": "Mme la préfète",
    }
    assert (
        await client.post(f"/api/v1/crises/{cid}/cod", json=cod, headers=prefect.headers)
    ).status_code == 200
    for title in TITLES:
        await published(
            db, clock.now(), crisis_id=cid, title=title, audiences=["officials", "media"]
        )
    clock.advance(minutes=minutes_to_close)
    if close:
        closed = await client.post(f"/api/v1/crises/{cid}/close", headers=prefect.headers)
        assert closed.status_code == 200
    return cid, prefect


async def test_a_closed_crisis_downloads_as_an_a4_pdf_with_clocks_bulletins_and_timeline(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, prefect = await _crisis(client, db, clock, mode="real")
    answer = await client.get(f"/evenements/{cid}/synthese.pdf", headers=prefect.headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert (
        answer.headers["content-disposition"] == f'attachment; filename="tocsin-synthese-{cid}.pdf"'
    )
    assert answer.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(answer.content))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    first = _pages(answer.content)[0]
    assert BLOC_MARQUE in " ".join(first.split())
    assert "Synthèse établie le 28/11/2026 à 16 h 38" in first
    assert f"Page 1 sur {len(reader.pages)}" in first
    assert "Bilan : Crue de la Somme" in first and "Crue / inondation" in first
    assert "Abbeville" in first and "événement réel" in first
    assert "EXERCICE" not in "".join(_pages(answer.content))
    text = " ".join(" ".join(_pages(answer.content)).split())
    assert re.search(r"ES47 28/11/2026 à 15 h 00 28/11/2026 à 16 h 00 28/11/2026 à 15 h 28", text)
    assert "(28 min) tenu" in text
    assert re.search(r"ES48 28/11/2026 à 15 h 23 28/11/2026 à 16 h 23 — non tenu \(dépassé\)", text)
    for title in TITLES:
        assert title in text
    assert "Élus : En attente : 3" in text and "Médias : En attente : 1" in text
    assert "Chronologie (main courante)" in text and "Événement clos" in text


async def test_a_crisis_closed_before_es48_was_met_reads_not_met_never_in_progress(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, prefect = await _crisis(client, db, clock, mode="real", minutes_to_close=10)
    answer = await client.get(f"/evenements/{cid}/synthese.pdf", headers=prefect.headers)
    text = " ".join(" ".join(_pages(answer.content)).split())
    assert re.search(r"ES48 28/11/2026 à 15 h 23 28/11/2026 à 16 h 23 — non tenu \(clos ", text)
    page = await client.get(f"/evenements/{cid}/bilan", headers=prefect.headers)
    assert "non tenu (clos avant d'être tenu)" in html.unescape(page.text)
    assert "en cours" not in text


async def test_an_exercise_summary_pdf_says_exercice_on_every_page(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, prefect = await _crisis(client, db, clock, mode="exercise", close=False)
    async with db.transaction() as session:  # a long day: the timeline spans several pages
        for n in range(150):
            await journal.append(
                session,
                actor=SYSTEM,
                action="checklist.ticked",
                now=clock.now(),
                crisis_id=cid,
                payload={"n": n},
            )
    assert (
        await client.post(f"/api/v1/crises/{cid}/close", headers=prefect.headers)
    ).status_code == 200
    answer = await client.get(f"/evenements/{cid}/synthese.pdf", headers=prefect.headers)
    pages = _pages(answer.content)
    assert len(pages) >= 3
    assert "EXERCICE — EXERCICE — EXERCICE" in pages[0] and "Mode EXERCICE" in pages[0]
    for number, page in enumerate(pages, start=1):
        assert "EXERCICE" in page and f"Page {number} sur {len(pages)}" in page
        assert BLOC_MARQUE in " ".join(page.split())
    text = " ".join(" ".join(pages).split())
    assert "Élus : En attente" in text  # the audience each exercise delivery played
    # the 150 above, and the 3 steps Tocsin ticked itself (cell ordered, operational, COD)
    assert text.count("Étape cochée") == 153


async def test_the_pdf_of_a_crisis_still_open_is_refused_with_a_clear_409(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, prefect = await _crisis(client, db, clock, mode="real", close=False)
    async with db.read() as session:
        before = await journal.length(session)
    answer = await client.get(f"/evenements/{cid}/synthese.pdf", headers=prefect.headers)
    assert answer.status_code == 409
    assert "text/html" in answer.headers["content-type"]
    assert "établie à la clôture : l'événement est encore en cours" in html.unescape(answer.text)
    async with db.read() as session:
        assert await journal.length(session) == before  # a read refused: nothing journaled
    page = await client.get(f"/evenements/{cid}/bilan", headers=prefect.headers)
    assert "synthese.pdf" not in page.text and "disponible à la clôture" in html.unescape(page.text)
    missing = await client.get("/evenements/999/synthese.pdf", headers=prefect.headers)
    assert missing.status_code == 404


async def test_the_pdf_is_refused_without_a_session_or_token(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, _ = await _crisis(client, db, clock, mode="real")
    anonymous = await client.get(f"/evenements/{cid}/synthese.pdf")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/connexion"
    assert not anonymous.content.startswith(b"%PDF")
    forged = await client.get(
        f"/evenements/{cid}/synthese.pdf", headers={"Authorization": "Bearer faux"}
    )
    assert forged.status_code in (303, 401) and not forged.content.startswith(b"%PDF")


async def test_the_summary_page_links_the_pdf_with_its_size_for_a_logged_in_user(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, prefect = await _crisis(client, db, clock, mode="real")
    await log_in(client, prefect.login, prefect.password)
    page = await client.get(f"/evenements/{cid}/bilan")
    pdf = await client.get(f"/evenements/{cid}/synthese.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    size = max(1, round(len(pdf.content) / 1000))
    link = re.search(
        r'<a class="fr-link fr-link--download" download href="([^"]+)">([^<]+)<span', page.text
    )
    assert link and link.group(1) == f"/evenements/{cid}/synthese.pdf"
    assert f'Télécharger la synthèse <span class="fr-link__detail">(PDF, {size} ko)</span>' in (
        page.text
    )
    assert "Crue de la Somme à Abbeville" in page.text and "(28 min)" in page.text
    file = await client.get(f"/evenements/{cid}/bilan.html")
    assert "Crue de la Somme à Abbeville" in file.text and "/static/" not in file.text


def test_french_punctuation_gets_its_no_break_spaces() -> None:
    assert french_spacing("Bilan : « crue » ; alerte ! le 28/11 à 15 h 05, 30 min") == (
        "Bilan\u00a0: «\u202fcrue\u202f»\u202f; alerte\u202f! le 28/11 à\u00a015\u00a0h\u00a005,"
        " 30\u00a0min"
    )


def _view(**changes: object) -> SummaryView:
    values: dict[str, object] = {
        "crisis_id": 7,
        "title": "Séisme au large",
        "exercise": False,
        "generated": "28/11/2026 à 15 h 00",
        "facts": [],
        "clocks": [],
        "bulletins": [],
        "statuses": [],
        "totals": "",
        "audiences": [],
        "others": "",
        "cabinet": [],
        "timeline": [],
        "last_hash": "—",
        "checkpoint": [("Point de contrôle", NO_CHECKPOINT)],
    }
    return SummaryView(**(values | changes))  # type: ignore[arg-type]


def test_every_page_carries_the_prefectures_bloc_marque_above_the_generation_time() -> None:
    timeline = [TimelineRow("28/11/2026 à 15 h 00", "Système", "Étape cochée", "")] * 300
    pages = _pages(render(_view(timeline=timeline), generated_at=FrozenClock().now()))
    assert len(pages) >= 2
    for page in pages:
        words = " ".join(page.split())
        assert words.startswith(BLOC_MARQUE)
        assert "Synthèse établie le 28/11/2026 à 15 h 00" in words


def test_a_character_outside_the_font_prints_as_a_visible_mark_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="tocsin.summary"):
        content = render(_view(title="Séisme 地震 au large"), generated_at=FrozenClock().now())
    assert "Bilan : Séisme \ufffd\ufffd au large" in _pages(content)[0]
    assert "2 character(s) outside the font" in caplog.text and "地" not in caplog.text


def test_a_row_longer_than_a_page_continues_on_the_next_one_without_losing_a_word() -> None:
    names = [f"Commune{n:03d}" for n in range(900)]
    facts = [("Communes (900)", ", ".join(names)), ("Lien", "https://" + "x" * 300)]
    pages = _pages(render(_view(facts=facts), generated_at=FrozenClock().now()))
    assert len(pages) >= 2
    second = pages[1].split("\n")
    header_end = next(n for n, line in enumerate(second) if line.startswith("Tocsin · bilan"))
    assert second[header_end + 1].startswith("Rubrique Détail")  # the header row, repeated
    text = "".join(pages)
    assert all(name in text for name in names)
    assert "".join(text.split()).count("x" * 300) == 1  # a word wider than its column is cut


async def test_the_summary_lists_the_cabinets_entries_in_the_order_of_the_facts(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, prefect = await _crisis(client, db, clock, mode="real", close=False)
    notes = [
        ("action", "Point presse en mairie", "2026-11-28T15:30:00+00:00", None),
        ("decision", "Évacuation du camping", "2026-11-28T15:10:00+00:00", "SYNERGI"),
    ]
    for kind, text, at, source in notes:
        body = {"kind": kind, "text": text, "occurred_at": at, "source": source}
        written = await client.post(
            f"/api/v1/crises/{cid}/journal", json=body, headers=prefect.headers
        )
        assert written.status_code == 201, written.text
    assert (
        await client.post(f"/api/v1/crises/{cid}/close", headers=prefect.headers)
    ).status_code == 200
    page = html.unescape(
        (await client.get(f"/evenements/{cid}/bilan", headers=prefect.headers)).text
    )
    section = page.split("Décisions, informations et actions du cabinet</h2>")[1].split("<h2>")[0]
    rows = re.findall(
        r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", section
    )
    assert rows == [
        ("28/11/2026 à 16 h 10", "Décision", "Évacuation du camping", "SYNERGI", "prefet"),
        ("28/11/2026 à 16 h 30", "Action menée", "Point presse en mairie", "—", "prefet"),
    ]
    pdf = " ".join(
        " ".join(
            _pages(
                (
                    await client.get(f"/evenements/{cid}/synthese.pdf", headers=prefect.headers)
                ).content
            )
        ).split()
    )
    assert "Décisions, informations et actions du cabinet" in pdf
    assert pdf.index("Évacuation du camping") < pdf.index("Point presse en mairie")
