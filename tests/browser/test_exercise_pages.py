from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.accessibility import axe_violations
from tests.browser.conftest import LiveServer, log_in
from tests.browser.layout import LAYOUT_PROBLEMS
from tests.browser.site import (
    api,
    awaiting_run,
    crisis_drill_on_flood_playbook,
    crisis_drill_with_inject,
    feedback_form,
    on_call_drill,
    reachability_drill,
    run_of,
)

pytestmark = pytest.mark.browser


def test_a_trainer_launches_a_drill_from_its_page_then_stops_it_with_a_reason(
    page: Page, live_server: LiveServer
) -> None:
    drill_id = on_call_drill(live_server, launched=False)
    log_in(page, live_server, "formateur")
    page.get_by_role("link", name="Exercices").first.click()
    expect(page.get_by_role("heading", name="Programme d'exercices")).to_be_visible()
    page.locator(f'a[href="/exercices/{drill_id}"]').click()
    page.get_by_role("button", name="Lancer l'exercice maintenant").click()
    expect(page.get_by_text("Exercice lancé")).to_be_visible()
    expect(page.get_by_role("cell", name="En cours")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Motif de l'arrêt").fill("Événement réel : crue en cours")
    page.get_by_role("button", name="STOP EXERCICE").click()
    expect(page.get_by_text("STOP EXERCICE : exercice arrêté")).to_be_visible()
    expect(page.get_by_role("cell", name="Arrêté (STOP EXERCICE)")).to_be_visible()
    expect(page.get_by_role("cell", name="Événement réel : crue en cours")).to_be_visible()
    expect(page.get_by_role("button", name="Lancer l'exercice maintenant")).to_be_visible()


def test_the_stop_button_refuses_to_stop_without_a_reason(
    page: Page, live_server: LiveServer
) -> None:
    drill_id = on_call_drill(live_server)
    log_in(page, live_server, "formateur")
    page.goto(f"{live_server.url}/exercices/{drill_id}")
    reason = page.get_by_label("Motif de l'arrêt")
    expect(reason).to_have_attribute("required", "")
    reason.fill("   ")
    page.get_by_role("button", name="STOP EXERCICE").click()
    expect(page.get_by_text("Indiquez pourquoi l'exercice est arrêté.")).to_be_visible()
    expect(page.get_by_role("cell", name="En cours")).to_be_visible()


def test_a_trainer_opens_a_runs_report_from_the_drill_page_and_downloads_its_pdf(
    page: Page, live_server: LiveServer
) -> None:
    drill_id = on_call_drill(live_server)
    run_id = run_of(live_server, drill_id)
    log_in(page, live_server, "formateur")
    page.goto(f"{live_server.url}/exercices/{drill_id}")
    page.get_by_role("link", name=f"Bilan de la séance n° {run_id}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bilan d'exercice (RETEX)")
    expect(page.get_by_role("heading", name="Engagements horaires")).to_be_visible()
    expect(page.get_by_role("row", name="ES47")).to_contain_text("en cours")
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le bilan (PDF A4)").click()
    pdf = download.value
    assert pdf.suggested_filename == f"tocsin-bilan-exercice-{drill_id}-seance-{run_id}.pdf"
    path = pdf.path()
    assert path is not None and path.read_bytes().startswith(b"%PDF")


def test_a_trainer_releases_an_inject_from_the_drill_page_then_marks_its_action_done(
    page: Page, live_server: LiveServer
) -> None:
    drill_id, inject_id = crisis_drill_with_inject(live_server)
    log_in(page, live_server, "formateur")
    page.goto(f"{live_server.url}/exercices/{drill_id}")
    row = page.locator(f"#inject-{inject_id}")
    expect(row).to_contain_text("prévu à")
    assert axe_violations(page) == []
    row.get_by_role("button", name="Déclencher maintenant").click()
    expect(page.get_by_text("Inject déclenché")).to_be_visible()
    expect(row).to_contain_text("joué à")
    expect(row.get_by_role("button", name="Déclencher maintenant")).to_have_count(0)
    row.get_by_role("button", name="Action faite").click()
    expect(page.get_by_text("Action attendue notée comme faite.")).to_be_visible()
    expect(row).to_contain_text("Faite")


def test_the_prefect_approves_a_reachability_test_from_its_page(
    page: Page, live_server: LiveServer
) -> None:
    drill_id = reachability_drill(live_server)
    log_in(page, live_server, "formateur")
    page.goto(f"{live_server.url}/exercices/{drill_id}")
    expect(page.get_by_text("en attente d'approbation")).to_be_visible()
    expect(page.get_by_role("button", name="Approuver")).to_have_count(0)  # not a trainer's act
    page.context.clear_cookies()
    log_in(page, live_server, "prefet")
    page.goto(f"{live_server.url}/exercices/{drill_id}")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Approuver").click()
    expect(page.get_by_text("Test de joignabilité approuvé")).to_be_visible()
    expect(page.get_by_text("approuvé par prefet")).to_be_visible()
    expect(page.get_by_role("button", name="Approuver")).to_have_count(0)


def test_a_participant_fills_the_feedback_form_once_without_logging_in(
    page: Page, live_server: LiveServer
) -> None:
    form = feedback_form(live_server)
    page.goto(f"{live_server.url}{form}")
    expect(page.get_by_role("heading", name="Retour d'exercice")).to_be_visible()
    expect(page.get_by_text("Exercice crue du questionnaire")).to_be_visible()
    assert axe_violations(page) == []
    page.locator('label[for="rating-4"]').click()
    page.get_by_label("Qu'est-ce qui a bien fonctionné ?").fill("L'alerte est arrivée vite")
    page.get_by_label("Que faudrait-il améliorer").fill("La liste des maires")
    page.get_by_role("button", name="Envoyer mes réponses").click()
    expect(page.get_by_text("vos réponses sont enregistrées")).to_be_visible()
    page.goto(f"{live_server.url}{form}")
    expect(page.get_by_text("Questionnaire déjà rempli")).to_be_visible()
    expect(page.get_by_role("button", name="Envoyer mes réponses")).to_have_count(0)
    assert axe_violations(page) == []


def test_a_trainer_changes_a_drills_title_from_its_page(
    page: Page, live_server: LiveServer
) -> None:
    drill_id = on_call_drill(live_server, launched=False)
    log_in(page, live_server, "formateur")
    page.goto(f"{live_server.url}/exercices/{drill_id}")
    page.get_by_role("link", name="Modifier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Modifier")
    assert axe_violations(page) == []
    page.get_by_label("Intitulé").fill("Test d'astreinte renommé")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_text("Exercice modifié.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Test d'astreinte renommé")


def test_a_trainer_deletes_a_drill_after_confirming(page: Page, live_server: LiveServer) -> None:
    drill_id = on_call_drill(live_server, launched=False)
    log_in(page, live_server, "formateur")
    page.goto(f"{live_server.url}/exercices/{drill_id}")
    page.get_by_text("Supprimer l'exercice").click()
    expect(page.get_by_label("Je confirme la suppression")).to_have_attribute("required", "")
    page.get_by_label("Je confirme la suppression").check(force=True)
    page.get_by_role("button", name="Supprimer", exact=True).click()
    expect(page.get_by_text("Exercice supprimé.")).to_be_visible()
    expect(page.locator(f'a[href="/exercices/{drill_id}"]')).to_have_count(0)


def test_a_trainer_cancels_a_run_awaiting_confirmation(page: Page, live_server: LiveServer) -> None:
    drill_id, _ = awaiting_run(live_server)
    log_in(page, live_server, "formateur")
    page.goto(f"{live_server.url}/exercices/{drill_id}")
    page.get_by_label("Motif de l'annulation (facultatif)").fill("Réunion de crise réelle")
    page.get_by_role("button", name="Annuler cette séance").click()
    expect(page.get_by_text("Séance annulée : rien n'est parti")).to_be_visible()
    expect(page.get_by_role("cell", name="Annulé par le formateur")).to_be_visible()
    expect(page.get_by_role("button", name="Confirmer le lancement")).to_have_count(0)


def test_a_trainer_takes_the_flood_playbooks_scenario_from_the_drill_page(
    page: Page, live_server: LiveServer
) -> None:
    drill_id = crisis_drill_on_flood_playbook(live_server)
    log_in(page, live_server, "formateur")
    page.goto(f"{live_server.url}/exercices/{drill_id}")
    expect(page.get_by_text("Aucun inject : le scénario est vide.")).to_be_visible()
    page.get_by_role("button", name="Reprendre le scénario de la fiche réflexe").click()
    expect(page.get_by_text("Scénario de la fiche réflexe repris : 3 inject(s).")).to_be_visible()
    expect(page.get_by_role("cell", name="+5 min")).to_be_visible()
    expect(
        page.get_by_role("button", name="Reprendre le scénario de la fiche réflexe")
    ).to_have_count(0)


def _page_link(server: LiveServer, crisis_id: int) -> str:
    """The personal link the exercise crisis' page carries (read back from the outbox)."""
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as db:
        query = "SELECT text FROM outbox_message WHERE crisis_id = ? AND text LIKE '%/acquitter/%'"
        [(text,)] = db.execute(query, (crisis_id,)).fetchall()
    return "/acquitter/" + str(text).rsplit("/acquitter/", 1)[1].split()[0]


def test_a_trainer_releases_an_inject_from_the_control_view_and_sees_an_answer_arrive_live(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    drill_id, inject_id = crisis_drill_with_inject(live_server)
    run_id = run_of(live_server, drill_id)
    log_in(page, live_server, "formateur")
    page.goto(f"{live_server.url}/exercices/{drill_id}")
    page.get_by_role("link", name="Piloter la séance en direct").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Pilotage : Exercice crue avec scénario")
    expect(page.locator('.tocsin-clock[data-clock="ES47"] [data-deadline]')).to_be_visible()
    row = page.locator(f"#pilotage-inject-{inject_id}")
    expect(row).to_contain_text("Dû à")
    expect(page.locator("#pilotage-reponses-compte")).to_contain_text("0 sur 1")
    assert axe_violations(page) == []
    row.get_by_role("button", name="Libérer").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Inject déclenché")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/exercices/{drill_id}/seances/{run_id}/pilotage$"))
    expect(row).to_contain_text("libéré à la main par formateur")
    expect(row).to_contain_text("Rappeler le maire — en attente")
    expect(row.get_by_role("button", name="Libérer")).to_have_count(0)
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    with api(live_server, "formateur") as trainer:
        crisis_id = trainer.get(f"/api/v1/exercises/{drill_id}").json()["runs"][0]["crisis_id"]
    participant = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris").new_page()
    participant.goto(f"{live_server.url}{_page_link(live_server, crisis_id)}")
    participant.get_by_role("button", name="Je confirme ma venue").click()
    expect(participant.get_by_text("votre réponse est enregistrée")).to_be_visible()
    expect(page.locator("#pilotage-reponses-compte")).to_contain_text("1 sur 1")  # no reload
    expect(page.locator("#pilotage")).to_contain_text("répondu à")
    row.get_by_role("button", name="Action faite").click()
    expect(row).to_contain_text("faite à")


@pytest.mark.parametrize("width", [1366, 390])
def test_the_control_view_fits_a_desktop_and_a_phone_and_refuses_an_operator(
    page: Page, live_server: LiveServer, width: int
) -> None:
    drill_id, _ = crisis_drill_with_inject(live_server)
    run_id = run_of(live_server, drill_id)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, "formateur")
    page.goto(f"{live_server.url}/exercices/{drill_id}/seances/{run_id}/pilotage")
    expect(page.get_by_role("button", name="STOP EXERCICE")).to_be_visible()
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    assert axe_violations(page) == []
    page.context.clear_cookies()
    log_in(page, live_server, "operateur")
    answer = page.goto(f"{live_server.url}/exercices/{drill_id}/seances/{run_id}/pilotage")
    assert answer is not None and answer.status == 403
