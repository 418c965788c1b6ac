"""A drill run's report as a page, an A4 PDF in French (read back with pypdf) and a chart."""

from __future__ import annotations

import io

import httpx
from pypdf import PdfReader

from crisis.app.db import Database
from tests.crisis.app.web_session import log_in
from tests.exercises.played import play
from tests.support import FrozenClock, make_user


def _text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    pages = [page.extract_text() for page in reader.pages]
    return " ".join(" ".join(pages).replace("\u202f", " ").replace("\u00a0", " ").split())


async def test_the_report_page_shows_the_clocks_rates_and_answer_times_with_its_pdf_link(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    played = await play(client, db, clock)
    page = await client.get(played.report_path, headers=played.trainer.headers)
    assert page.status_code == 200, page.text
    text = " ".join(page.text.replace("\u202f", " ").replace("\u00a0", " ").split())
    assert "EXERCICE" in text and "ES47" in text and "tenu" in text
    assert "28 min 00 s" in text and "non tenu (dépassé)" in text
    assert "66,7 %" in text and "33,3 %" in text and "35 min 00 s" in text
    assert "10 min 00 s" in text and "12 min 00 s" in text  # p50 and max, communication
    assert f'href="{played.report_path}/bilan.pdf"' in page.text
    assert f'src="{played.report_path}/chronologie.png"' in page.text
    drill = await client.get(f"/exercices/{played.drill_id}", headers=played.trainer.headers)
    assert f'href="{played.report_path}"' in drill.text


async def test_the_report_pdf_is_a4_in_french_with_each_clock_result_and_the_chart(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    played = await play(client, db, clock)
    answer = await client.get(f"{played.report_path}/bilan.pdf", headers=played.prefect.headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-store"
    reader = PdfReader(io.BytesIO(answer.content))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = _text(answer.content)
    assert "Bilan d'exercice (RETEX) : Exercice crue annuel" in text
    assert "EXERCICE — EXERCICE — EXERCICE" in text
    assert "ES47" in text and "28/11/2026 à 15 h 28" in text and "28 min 00 s" in text
    assert "ES48" in text and "non tenu (dépassé)" in text
    assert "Élus" in text and "66,7 %" in text and "Médias" in text and "100,0 %" in text
    assert "Ensemble : 4 envois, 75,0 % remis, 25,0 % acquittés." in text
    assert "Chronologie en graphique" in text
    assert any(page.images for page in reader.pages)  # the matplotlib chart
    assert "Cellule opérationnelle" in text  # the timeline


async def test_the_chart_is_a_png_and_other_roles_get_neither_page_nor_pdf(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    played = await play(client, db, clock)
    chart = await client.get(
        f"{played.report_path}/chronologie.png", headers=played.trainer.headers
    )
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
    operator = await make_user(db, clock, "operateur", "operator")
    for suffix in ("", "/bilan.pdf", "/chronologie.png"):
        refused = await client.get(played.report_path + suffix, headers=operator.headers)
        assert refused.status_code == 403, suffix


async def test_the_trainers_notes_are_saved_journaled_and_shown_in_the_page_and_the_pdf(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    played = await play(client, db, clock)
    csrf = await log_in(client, played.trainer.login, played.trainer.password)
    notes = "Bonne réactivité de la cellule ; ES48 manqué : annuaire des maires à revoir."
    saved = await client.post(
        f"{played.report_path}/notes", data={"text": f"  {notes} ", "csrf_token": csrf}
    )
    assert saved.status_code == 303 and saved.headers["location"] == played.report_path
    page = (await client.get(played.report_path)).text
    assert "Notes du formateur enregistrées" in page and notes in page.replace("&#39;", "'")
    pdf = await client.get(f"{played.report_path}/bilan.pdf")
    assert notes in _text(pdf.content)
    report = await client.get(
        f"/api/v1/exercises/{played.drill_id}/runs/{played.run_id}/report",
        headers=played.prefect.headers,
    )
    assert report.json()["notes"]["text"] == notes
    assert report.json()["notes"]["written_by"] == played.trainer.login
    assert "exercise.notes" in [line["action"] for line in report.json()["timeline"]]


async def test_a_prefect_may_read_the_report_but_not_write_the_trainers_notes(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    played = await play(client, db, clock)
    csrf = await log_in(client, played.prefect.login, played.prefect.password)
    page = await client.get(played.report_path)
    assert page.status_code == 200 and 'id="action-notes"' not in page.text
    refused = await client.post(
        f"{played.report_path}/notes", data={"text": "Notes du préfet", "csrf_token": csrf}
    )
    assert refused.status_code == 303
    shown = (await client.get(played.report_path)).text
    assert "Pas encore de notes." in shown and "Notes du préfet" not in shown
