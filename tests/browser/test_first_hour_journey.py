"""Issue 18, « Done when »: the first hour of a flood at Montdidier played by three people in
three browsers — the prefect, the communication officer, the validator — on a desktop and on
a phone, through the pages only (the API is only read, to check what the pages cannot show).

Each step is photographed (under $TOCSIN_JOURNEY_SHOTS, else the test's tmp_path) and checked:
nothing wider than the screen, no accessibility rule broken (axe-core), no CSP violation. The
clicks and the fields filled are counted per person; the table is printed (pytest -s) and
written next to the screenshots as JSON."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from tests.browser.accessibility import axe_violations
from tests.browser.conftest import LiveServer
from tests.browser.layout import LAYOUT_PROBLEMS
from tests.browser.site import DESKTOP, LIVE_REGIONS_SETTLED, PHONE, api
from tests.browser.test_content_security_policy import COLLECT_VIOLATIONS

pytestmark = pytest.mark.browser

COMMUNE = "Montdidier (80561)"
VALIDATOR_ON_DUTY = "Véronique VALIDATRICE"
MAYORS = {  # the élus of Montdidier in the directory: one by e-mail, two to call
    "ROUSSEL": ("maire", {"kind": "email", "address": "maire@montdidier.test"}),
    "LEFEBVRE": ("adjoint", {"kind": "phone", "address": "+33322780001"}),
    "MARTIN": ("conseiller_municipal", {"kind": "phone", "address": "+33322780002"}),
}
NOTE = "Joint à 14 h 10 : la mairie ouvre la salle des fêtes aux sinistrés"
ELUS_LINE = "03 22 78 00 00"
ELUS_TEMPLATE = "Rédiger le premier communiqué aux élus — modèle prêt"


@pytest.fixture(scope="module")
def directory(live_server: LiveServer) -> Iterator[None]:
    """What the prefecture had before the flood: Montdidier's élus in the directory and a
    validator on duty (set up by the administrator, not part of the hour)."""
    with api(live_server, "admin") as admin:
        for last_name, (function, channel) in MAYORS.items():
            contact = {
                "audience": "officials",
                "function": function,
                "first_name": "Claude",
                "last_name": last_name,
                "area_level": "commune",
                "area_code": "80561",
                "channels": [channel],
            }
            admin.post("/api/v1/contacts", json=contact).raise_for_status()
        first, last = VALIDATOR_ON_DUTY.split()
        staff = admin.post(
            "/api/v1/contacts",
            json={
                "audience": "staff",
                "function": "agent_permanence",
                "first_name": first,
                "last_name": last,
                "area_level": "departement",
                "area_code": "80",
                "channels": [{"kind": "email", "address": "valideur@somme.gouv.test"}],
            },
        )
        staff.raise_for_status()
        now = datetime.now(UTC)
        shift = {
            "role": "validator",
            "contact_id": staff.json()["id"],
            "name": VALIDATOR_ON_DUTY,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=3)).isoformat(),
        }
        admin.post("/api/v1/roster/shifts", json=shift).raise_for_status()
    yield


@dataclass
class Journey:
    """The three people's browsers, what each did (clicks, fields), and each step's picture."""

    server: LiveServer
    browser: Browser
    viewport: ViewportSize
    shots: Path
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)
    pages: dict[str, Page] = field(default_factory=dict)

    def _count(self, login: str, what: str) -> None:
        mine = self.counts.setdefault(login, {"clics": 0, "champs": 0})
        mine[what] += 1

    def click(self, login: str, target: Locator) -> None:
        self._count(login, "clics")
        target.click()

    def fill(self, login: str, target: Locator, value: str) -> None:
        self._count(login, "champs")
        target.fill(value)

    def type(self, login: str, target: Locator, text: str) -> None:
        """Typed key by key (an autocomplete, a note): one field."""
        self._count(login, "champs")
        target.press_sequentially(text)

    def select(self, login: str, target: Locator, value: str) -> None:
        self._count(login, "champs")
        target.select_option(value)

    def person(self, login: str) -> Page:
        """A new browser, and its user logging in through the login page."""
        context = self.browser.new_context(
            locale="fr-FR", timezone_id="Europe/Paris", viewport=self.viewport
        )
        context.add_init_script(COLLECT_VIOLATIONS)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        self.pages[login] = page
        if login:
            page.goto(f"{self.server.url}/connexion")
            self.fill(login, page.get_by_label("Identifiant"), login)
            self.fill(login, page.get_by_label("Mot de passe"), self.server.users[login])
            self.click(login, page.get_by_role("button", name="Se connecter"))
            page.wait_for_url(f"{self.server.url}/")
        return page

    def step(self, login: str, page: Page, name: str) -> None:
        """Photograph the page as it stands and check it: it fits the screen, breaks no
        accessibility rule and no CSP directive."""
        page.wait_for_load_state()
        page.wait_for_function(LIVE_REGIONS_SETTLED)
        number = len(self.steps) + 1
        path = self.shots / f"{number:02d}-{login or 'anonyme'}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        path_only = page.url.removeprefix(self.server.url)
        problems = list(page.evaluate(LAYOUT_PROBLEMS)) + axe_violations(page)
        problems += page.evaluate("window.__violations || []")
        self.steps.append({"step": number, "who": login, "page": path_only, "shot": str(path)})
        assert problems == [], f"{login} {path_only}:\n" + "\n".join(problems)

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def report(self) -> str:
        """The table printed at the end, and the JSON next to the screenshots."""
        total = {
            "clics": sum(c["clics"] for c in self.counts.values()),
            "champs": sum(c["champs"] for c in self.counts.values()),
        }
        summary = {
            "viewport": self.viewport,
            "counts": self.counts,
            "total": total,
            "steps": self.steps,
        }
        (self.shots / "journey.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        width = self.viewport["width"]
        lines = [f"Parcours de la première heure à {width} px ({self.shots})"]
        lines.append(f"{'personne':<14}{'clics':>7}{'champs':>8}")
        for login, c in [*self.counts.items(), ("total", total)]:
            lines.append(f"{login:<14}{c['clics']:>7}{c['champs']:>8}")
        return "\n".join(lines)


def _shots_dir(tmp_path: Path, name: str) -> Path:
    root = os.environ.get("TOCSIN_JOURNEY_SHOTS")
    shots = (Path(root) if root else tmp_path) / name
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    return shots


def _checklist_row(page: Page, title: str) -> Locator:
    return page.get_by_role("row").filter(has_text=title)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["bureau", "telephone"])
def test_the_first_hour_as_the_prefect_the_communication_officer_and_the_validator(
    browser: Browser,
    live_server: LiveServer,
    directory: None,
    viewport: ViewportSize,
    tmp_path: Path,
) -> None:
    name = "bureau" if viewport == DESKTOP else "telephone"
    journey = Journey(live_server, browser, viewport, _shots_dir(tmp_path, name))
    title = f"Crue de l'Avre à Montdidier ({name})"
    try:
        crisis_id = _the_prefect_declares_and_records_the_cod(journey, title)
        bulletin_id, bulletin_title = _the_communicant_composes_for_the_elus(journey, crisis_id)
        _the_validator_approves_from_their_queue(journey, crisis_id, bulletin_title)
        tracking = _the_communicant_publishes_seeing_the_recipients(journey, bulletin_id)
        _a_call_note_survives_a_live_refresh(journey, tracking)
        _nothing_of_it_is_public(journey, bulletin_id, bulletin_title)
    finally:
        journey.close()
    print("\n" + journey.report())


def _the_prefect_declares_and_records_the_cod(journey: Journey, title: str) -> int:
    prefect = journey.person("prefet")
    journey.step("prefet", prefect, "tableau-de-bord")
    journey.click("prefet", prefect.get_by_role("link", name="Déclarer un événement"))
    journey.fill("prefet", prefect.get_by_label("Intitulé"), title)
    journey.select("prefet", prefect.get_by_label("Type d'événement"), "crue")
    communes = prefect.get_by_label("Communes touchées")
    journey.type("prefet", communes, "Montdid")
    journey.click("prefet", prefect.get_by_role("button", name=COMMUNE))
    expect(communes).to_have_value(f"{COMMUNE}, ")
    journey.step("prefet", prefect, "declaration")
    journey.click("prefet", prefect.get_by_role("button", name="Déclarer l'événement"))
    expect(prefect.get_by_role("heading", level=1)).to_have_text(title)
    crisis_id = int(prefect.url.rsplit("/", 1)[-1])
    first = "Publier la première information vers les élus"
    expect(_checklist_row(prefect, first)).to_contain_text("en attente de l'activation du COD")
    journey.step("prefet", prefect, "evenement-declare")

    journey.fill("prefet", prefect.get_by_label("Référence SYNERGI"), "SYN-80-2026-0412")
    journey.fill("prefet", prefect.get_by_label("Décidée par"), "Mme la préfète")
    journey.click("prefet", prefect.get_by_role("button", name="Enregistrer l'activation du COD"))
    expect(prefect.get_by_role("alert")).to_contain_text("Activation du COD enregistrée")
    expect(_checklist_row(prefect, first)).to_contain_text("COD + 40 min")
    with api(journey.server, "prefet") as reader:
        crisis = reader.get(f"/api/v1/crises/{crisis_id}").json()
    assert crisis["communes"] == ["80561"]
    # The COD is recorded while the cell is ordered but not operational yet.
    assert crisis["cod"]["recorded_at"] and crisis["cell"]["ordered_at"], crisis
    assert crisis["cell"]["operational_at"] is None, crisis
    journey.step("prefet", prefect, "cod-enregistre")
    return crisis_id


def _the_communicant_composes_for_the_elus(journey: Journey, crisis_id: int) -> tuple[int, str]:
    who = "communicant"
    page = journey.person(who)
    journey.click(who, page.get_by_role("link", name=re.compile("Crue de l'Avre")).first)
    expect(page).to_have_url(f"{journey.server.url}/evenements/{crisis_id}")
    panel = page.locator("#prochaine-etape")
    expect(panel.get_by_role("heading")).to_have_text(f"Prochaine étape : {ELUS_TEMPLATE}")
    journey.step(who, page, "prochaine-etape")
    journey.click(who, panel.get_by_role("link", name=ELUS_TEMPLATE))
    body = page.get_by_role("textbox", name="Texte")
    expect(body).to_contain_text("Communes concernées : Montdidier")
    communes = page.get_by_label("Communes concernées")
    journey.type(who, communes, "Montdid")
    journey.click(who, page.get_by_role("button", name=COMMUNE))
    expect(communes).to_have_value(f"{COMMUNE}, ")
    # The template leaves the élus' COD line to fill in: the preview says so until it is.
    expect(page.locator("#preview-to-submit")).to_contain_text("à compléter")
    text = body.input_value().replace("[à compléter : Ligne du COD réservée aux élus]", ELUS_LINE)
    journey.fill(who, body, text)
    expect(page.locator("#preview-ready")).to_be_visible()
    audiences = page.locator("#audiences-fieldset")
    expect(audiences.get_by_label("Élus")).to_be_checked()
    expect(audiences.get_by_label("Public", exact=True)).not_to_be_checked()
    bulletin_title = page.get_by_label("Titre", exact=True).input_value()
    journey.step(who, page, "redaction")
    journey.click(who, page.get_by_role("button", name="Enregistrer le brouillon"))
    expect(page.get_by_text("Brouillon n°")).to_be_visible()
    bulletin_id = int(page.url.rsplit("/", 1)[-1])
    journey.click(who, page.get_by_role("button", name="Soumettre à validation"))
    expect(page.locator("#bulletin-status")).to_have_text("Soumis à validation")
    journey.step(who, page, "soumis")
    return bulletin_id, bulletin_title


def _the_validator_approves_from_their_queue(
    journey: Journey, crisis_id: int, bulletin_title: str
) -> None:
    who = "valideur"
    page = journey.person(who)
    queue = page.locator(".tocsin-review-queue")
    expect(queue).to_contain_text(f"« {bulletin_title} »")
    journey.step(who, page, "file-a-valider")
    journey.click(who, queue.get_by_role("link", name=f"« {bulletin_title} »").first)
    journey.click(who, page.get_by_role("button", name="Valider le communiqué"))
    expect(page.locator("#bulletin-status")).to_have_text("Validé")
    journey.step(who, page, "valide")
    # The validator on duty was told through the outbox: the journal says to whom.
    with api(journey.server, "valideur") as reader:
        entries = reader.get(f"/api/v1/crises/{crisis_id}/journal").json()["items"]
    told = [e["payload"] for e in entries if e["action"] == "bulletin.reviewers_notified"]
    assert [VALIDATOR_ON_DUTY in t["recipients"] for t in told] == [True], told


def _the_communicant_publishes_seeing_the_recipients(journey: Journey, bulletin_id: int) -> str:
    who = "communicant"
    page = journey.pages[who]
    page.reload()
    counted = page.locator("#recipients-count p")
    expect(counted).to_have_text("3 élus (2 à appeler).")
    journey.step(who, page, "destinataires")
    journey.click(who, page.get_by_role("link", name="Publier…"))
    expect(page.locator(".fr-callout__title")).to_have_text("Il partira vers 3 élus (2 à appeler).")
    expect(page.locator("#recipients-detail")).to_contain_text("dont 2 sans canal utilisable")
    journey.step(who, page, "confirmation")
    journey.click(who, page.get_by_role("button", name="Confirmer et publier"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Suivi des envois")
    assert page.url.endswith(f"/communiques/{bulletin_id}/suivi")
    journey.step(who, page, "suivi")
    return page.url


def _a_call_note_survives_a_live_refresh(journey: Journey, tracking: str) -> None:
    """The communicant types a note for one élu while, from a second tab, the other call is
    recorded: the row called leaves the first tab live, the note and the focus stay."""
    who = "communicant"
    page = journey.pages[who]
    assert page.url == tracking
    note = page.get_by_label(re.compile("Note d'appel pour .*LEFEBVRE"))
    journey.click(who, note)
    journey.type(who, note, NOTE[:25])
    other = page.context.new_page()
    other.goto(tracking)
    other_note = other.get_by_label(re.compile("Note d'appel pour .*MARTIN"))
    journey.fill(who, other_note, "Joint, message bien reçu")
    row = other.get_by_role("row").filter(has=other_note)
    journey.click(who, row.get_by_role("button", name="Appel passé : réception confirmée"))
    expect(other.get_by_role("alert").first).to_be_visible()
    other.close()
    expect(page.get_by_role("row").filter(has_text="MARTIN")).to_have_count(0)
    note.press_sequentially(NOTE[25:])  # the same field, still being typed
    assert note.input_value() == NOTE
    focused = page.evaluate("document.activeElement.id")
    assert focused == note.get_attribute("id")
    journey.step(who, page, "note-apres-rafraichissement")


def _nothing_of_it_is_public(journey: Journey, bulletin_id: int, bulletin_title: str) -> None:
    page = journey.person("")
    page.goto(f"{journey.server.url}/public/bulletins")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text(bulletin_title)).to_have_count(0)
    journey.step("", page, "page-publique")
    with api(journey.server, "communicant") as reader:
        public_id = reader.get(f"/api/v1/bulletins/{bulletin_id}").json().get("public_id")
    tried = [str(bulletin_id)] + ([public_id] if public_id else [])
    for name in tried:
        answer = httpx.get(f"{journey.server.url}/public/bulletins/{name}")
        assert answer.status_code == 404, name
        assert bulletin_title not in answer.text
    listing = httpx.get(f"{journey.server.url}/public/bulletins").text
    assert bulletin_title not in listing
