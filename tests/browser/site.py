"""Every page of the site, by role, over one published bulletin: the list the browser sweeps
(CSP, phone width, skip links) visit, kept once."""

from __future__ import annotations

import smtplib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, Response, ViewportSize

from tests.browser.accessibility import preload_axe
from tests.browser.conftest import LiveServer, log_in
from tests.crisis.bulletin_support import BODY, TITLE

LIVE_REGIONS_SETTLED = "() => !document.querySelector('[aria-busy=true]')"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PUBLIC_PAGES = ["/accessibilite", "/mentions-legales", "/donnees-personnelles"]
VERSIONS = {
    "title_en": "Flooding of the Somme in Abbeville",
    "body_en": "The Somme is overflowing in Abbeville.\nInstructions: keep off flooded roads.",
    "title_falc": "La Somme déborde à Abbeville",
    "body_falc": "L’eau monte à Abbeville.\nNe roulez pas sur les routes inondées.",
}
"""The published bulletin's English and easy-to-read versions (its language switch)."""


@dataclass(frozen=True)
class Site:
    crisis_id: int
    bulletin_id: int
    contact_id: int
    public_id: str
    drill_id: int
    run_id: int
    request_id: int = 0  # a written request to the CIP, by e-mail

    def pages_by_role(self) -> dict[str, list[str]]:
        """Login ("" for nobody) → the pages that role opens."""
        crisis_id, bulletin_id = self.crisis_id, self.bulletin_id
        shared = [
            "/",
            f"/evenements/{crisis_id}",
            f"/evenements/{crisis_id}/main-courante",
            f"/evenements/{crisis_id}/cip",
            "/main-courante",
            f"/evenements/{crisis_id}/bilan",
            f"/communiques/{bulletin_id}",
            f"/communiques/{bulletin_id}/suivi",
            "/fiches-reflexes",
            "/fiches-reflexes/crue",
            "/canaux",
            "/astreinte",
            "/mon-compte",
            "/page-inexistante",
        ]
        return {
            "": [
                "/connexion",
                "/public/bulletins",
                f"/public/bulletins/{self.public_id}",
                f"/public/bulletins/{self.public_id}?lang=en",
                "/confirmer/jeton-inconnu",
                "/retour-exercice/jeton-inconnu",
                *PUBLIC_PAGES,
            ],
            "prefet": [
                *shared,
                "/evenements/nouveau",
                "/exercices",
                f"/exercices/{self.drill_id}",
                f"/communiques/{bulletin_id}/fr-alert",
            ],
            "formateur": [
                "/",
                "/exercices",
                "/exercices/nouveau",
                f"/exercices/{self.drill_id}",
                f"/exercices/{self.drill_id}/modifier",
                f"/exercices/{self.drill_id}/seances/{self.run_id}",
                f"/exercices/{self.drill_id}/seances/{self.run_id}/pilotage",
            ],
            "communicant": [
                *shared,
                f"/evenements/{crisis_id}/communiques/nouveau",
                f"/communiques/{bulletin_id}/modifier",
            ],
            "operateur": [
                *shared,
                "/cip",
                f"/evenements/{crisis_id}/cip/demandes/{self.request_id}",
            ],
            "admin": [
                "/annuaire",
                f"/annuaire/{self.contact_id}",
                "/annuaire/import",
                "/canaux",
                "/mon-compte/mot-de-passe",
                "/astreinte",
                "/astreinte/import",
                "/utilisateurs",
                "/utilisateurs/1",
            ],
        }


def token(server: LiveServer, login: str) -> str:
    """An API token of `login`, made once per server (a CLI process costs seconds of CPU; no
    test revokes the shared users' tokens)."""
    if login not in server.tokens:
        made = server.cli("users", "token", login).stdout.strip().splitlines()[-1]
        server.tokens[login] = made
    return server.tokens[login]


def api(server: LiveServer, login: str) -> httpx.Client:
    token_of_login = token(server, login)
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token_of_login}"})


def add_contact(
    server: LiveServer, audience: str, function: str, last_name: str, commune: str | None = None
) -> int:
    """A directory entry written by the admin through the API, with one e-mail address: for
    the whole département, or for one commune (an official that other tests' counts miss)."""
    address = f"{last_name.lower()}@sandbox.tocsin.test"
    with api(server, "admin") as admin:
        written = admin.post(
            "/api/v1/contacts",
            json={
                "audience": audience,
                "function": function,
                "last_name": last_name,
                "area_level": "commune" if commune else "departement",
                "area_code": commune or "80",
                "channels": [{"kind": "email", "address": address}],
            },
        )
        written.raise_for_status()
        contact_id: int = written.json()["id"]
    return contact_id


def published_site(server: LiveServer) -> Site:
    """A crisis, a bulletin published in it, a contact: the ids every page needs."""
    with (
        api(server, "prefet") as prefect,
        api(server, "communicant") as communicator,
        api(server, "valideur") as validator,
    ):
        crisis = prefect.post(
            "/api/v1/crises",
            json={"title": "Crue sous CSP", "kind": "crue", "mode": "real", "communes": ["80001"]},
        )
        crisis.raise_for_status()
        crisis_id = crisis.json()["id"]
        cip = {"number": "0 800 10 02 00"}  # the CIP page with its staffing and forms
        prefect.post(f"/api/v1/crises/{crisis_id}/cip", json=cip).raise_for_status()
        write_to_the_cip(server, crisis_id, "Route de Pont-Rémy")
        written = prefect.get(f"/api/v1/crises/{crisis_id}/cip/requests").json()["items"]
        draft = communicator.post(
            f"/api/v1/crises/{crisis_id}/bulletins",
            json={"title": TITLE, "body": BODY, "audiences": ["public"], **VERSIONS},
        )
        draft.raise_for_status()
        bulletin_id = draft.json()["id"]
        communicator.post(f"/api/v1/bulletins/{bulletin_id}/submit").raise_for_status()
        validator.post(f"/api/v1/bulletins/{bulletin_id}/approve").raise_for_status()
        communicator.post(f"/api/v1/bulletins/{bulletin_id}/publish").raise_for_status()
        public_id = communicator.get(f"/api/v1/bulletins/{bulletin_id}").json()["public_id"]
    contact_id = add_contact(server, "media", "journaliste", "DURAND")
    drill_id = on_call_drill(server)
    run_id = run_of(server, drill_id)
    return Site(crisis_id, bulletin_id, contact_id, public_id, drill_id, run_id, written[0]["id"])


def write_to_the_cip(server: LiveServer, crisis_id: int, subject: str) -> None:
    """A citizen's e-mail to the CIP of `crisis_id`, by SMTP to the worker's inbox."""
    message = EmailMessage()
    message["From"] = "Jeanne Riveraine <jeanne.riveraine@exemple.test>"
    message["To"] = f"cip+{crisis_id}@prefecture.invalid"
    message["Subject"] = subject
    message.set_content("La route de Pont-Rémy est-elle rouverte ?")
    with smtplib.SMTP("127.0.0.1", server.cip_smtp_port, timeout=10) as smtp:
        smtp.send_message(message)


def run_of(server: LiveServer, drill_id: int) -> int:
    """The drill's latest run."""
    with api(server, "formateur") as trainer:
        drill = trainer.get(f"/api/v1/exercises/{drill_id}")
        drill.raise_for_status()
        run_id: int = drill.json()["runs"][0]["id"]
    return run_id


def on_call_drill(server: LiveServer, *, launched: bool = True) -> int:
    """An on-call test planned by the trainer (launched: its page shows STOP EXERCICE)."""
    with api(server, "formateur") as trainer:
        starts_at = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        body = {"title": "Test d'astreinte du mois", "kind": "on_call", "starts_at": starts_at}
        drill = trainer.post("/api/v1/exercises", json=body)
        drill.raise_for_status()
        drill_id: int = drill.json()["id"]
        if launched:
            trainer.post(f"/api/v1/exercises/{drill_id}/launch").raise_for_status()
    return drill_id


def awaiting_run(server: LiveServer) -> tuple[int, int]:
    """An on-call test planned « ask me first » whose instant came: its run awaits the
    trainer (written as the scheduler writes it). (drill id, run id)."""
    with api(server, "formateur") as trainer:
        starts_at = (datetime.now(UTC) + timedelta(days=5)).isoformat()
        body = {
            "title": "Test d'astreinte à confirmer",
            "kind": "on_call",
            "starts_at": starts_at,
            "confirm_first": True,
        }
        drill = trainer.post("/api/v1/exercises", json=body)
        drill.raise_for_status()
        drill_id: int = drill.json()["id"]
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as db:
        row = db.execute(
            "INSERT INTO exercise_run (drill_id, occurrence_at, status, launched_by, late, "
            "injects_paused_seconds) VALUES (?, ?, 'awaiting', 'system', 0, 0)",
            (drill_id, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")),
        )
        run_id = row.lastrowid
    assert run_id is not None
    return drill_id, run_id


def crisis_drill_with_inject(server: LiveServer) -> tuple[int, int]:
    """A crisis drill with one exercise participant and one inject at +45 min, launched:
    (drill id, inject id)."""
    with api(server, "admin") as admin:
        player = admin.post(
            "/api/v1/contacts",
            json={
                "audience": "exercise",
                "function": "participant_exercice",
                "last_name": "MARTIN",
                "area_level": "departement",
                "area_code": "80",
                "channels": [{"kind": "email", "address": "joueur@sandbox.tocsin.test"}],
            },
        )
        assert player.status_code == 201, player.text
    inject = {
        "offset_min": 45,
        "audience": "officials",
        "text": "Le maire d'Abbeville demande s'il faut fermer l'école",
        "expected_action": "Rappeler le maire",
    }
    body = {
        "title": "Exercice crue avec scénario",
        "kind": "crisis",
        "playbook": "crue",
        "communes": ["80001"],
        "participants": [player.json()["id"]],
        "starts_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        "injects": [inject],
    }
    with api(server, "formateur") as trainer:
        drill = trainer.post("/api/v1/exercises", json=body)
        drill.raise_for_status()
        drill_id: int = drill.json()["id"]
        trainer.post(f"/api/v1/exercises/{drill_id}/launch").raise_for_status()
    return drill_id, drill.json()["injects"][0]["id"]


def crisis_drill_on_flood_playbook(server: LiveServer) -> int:
    """A crisis drill on the flood playbook (which carries a ready-made scenario), with one
    exercise participant, no inject yet, not launched."""
    player = add_contact(server, "exercise", "agent_permanence", "SCENARIO")
    body = {
        "title": "Exercice crue sur scénario de la fiche",
        "kind": "crisis",
        "playbook": "crue",
        "communes": ["80001"],
        "participants": [player],
        "starts_at": (datetime.now(UTC) + timedelta(days=6)).isoformat(),
    }
    with api(server, "formateur") as trainer:
        drill = trainer.post("/api/v1/exercises", json=body)
        drill.raise_for_status()
        drill_id: int = drill.json()["id"]
    return drill_id


def reachability_drill(server: LiveServer) -> int:
    """A reachability test of one mayor, planned by the trainer: it awaits the prefect."""
    mayor = add_contact(server, "officials", "maire", "JOIGNABLE", commune="80759")  # Tilloloy
    with api(server, "formateur") as trainer:
        body = {
            "title": "Joignabilité des maires",
            "kind": "reachability",
            "participants": [mayor],
            "starts_at": (datetime.now(UTC) + timedelta(days=5)).isoformat(),
        }
        drill = trainer.post("/api/v1/exercises", json=body)
        drill.raise_for_status()
        drill_id: int = drill.json()["id"]
    return drill_id


def feedback_form(server: LiveServer) -> str:
    """A crisis drill of one participant, launched then stopped: the path of the feedback form
    its end message carries (read back from the server's outbox)."""
    player = add_contact(server, "exercise", "agent_permanence", "JOUEUR")
    with api(server, "formateur") as trainer:
        body = {
            "title": "Exercice crue du questionnaire",
            "kind": "crisis",
            "playbook": "crue",
            "communes": ["80021"],
            "participants": [player],
            "starts_at": (datetime.now(UTC) + timedelta(days=4)).isoformat(),
        }
        drill = trainer.post("/api/v1/exercises", json=body)
        drill.raise_for_status()
        url = f"/api/v1/exercises/{drill.json()['id']}"
        run = trainer.post(f"{url}/launch")
        run.raise_for_status()
        stop = {"reason": "Fin du scénario"}
        trainer.post(f"{url}/runs/{run.json()['run_id']}/stop", json=stop).raise_for_status()
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as db:
        query = "SELECT text FROM outbox_message WHERE text LIKE '%/retour-exercice/%'"
        [(text,)] = db.execute(query).fetchall()
    return "/retour-exercice/" + str(text).rsplit("/retour-exercice/", 1)[1].split()[0]


def context_as(
    browser: Browser,
    server: LiveServer,
    login: str,
    *,
    viewport: ViewportSize | None = None,
    init_script: str | None = None,
) -> tuple[BrowserContext, Page]:
    """A fresh browser context, logged in as `login` (or nobody)."""
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport=viewport or DESKTOP
    )
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.set_default_timeout(10_000)
    if login:
        log_in(page, server, login)
    return context, page


def sweep(
    browser: Browser,
    server: LiveServer,
    check: Callable[[Page, Response], list[str]],
    *,
    viewport: ViewportSize | None = None,
    init_script: str | None = None,
) -> list[str]:
    """Every page as each role, once its live regions settled: what `check` finds on each,
    prefixed with the role and the path."""
    found = []
    for login, paths in published_site(server).pages_by_role().items():
        context, page = context_as(
            browser, server, login, viewport=viewport, init_script=init_script
        )
        preload_axe(context)
        for path in paths:
            response = page.goto(f"{server.url}{path}")
            assert response is not None
            page.wait_for_function(LIVE_REGIONS_SETTLED)
            found += [f"{login or 'anonyme'} {path}: {p}" for p in check(page, response)]
        context.close()
    return found
