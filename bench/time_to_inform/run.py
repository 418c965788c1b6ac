"""Time to inform (ES48): the cabinet's gestures from the COD record to the three audiences.

    .venv/bin/python -m bench.time_to_inform [--json results.json] [--keep DIR] [--headed]

Starts a real ``tocsin serve --demo`` on a free loopback port with a fresh SQLite file (the
channel sandbox, the synthetic Somme directory and the demo users come with it), then with
Playwright driving Debian's Chromium:

- untimed set-up: the prefect declares a « crue » for the whole département from the form,
  the cell is ordered, the communicator and the validator answer the page and the cell is
  declared operational (through the API);
- timed: the prefect records the COD on the crisis page (ES48 starts); the communicator opens
  the composer from the crue playbook's first-information template, completes the
  « [à compléter : …] » marks, saves and submits; the validator (another user) approves;
  the communicator publishes;
- the system's share: from the publish click to the last reachable mayor with a delivery
  ``sent``, to the media and to the public channels (deliveries API and ES48 coverage);
- the operator then logs, on the tracking page, a call for every delivery ``to_call`` (no
  usable channel), after which ES48 is met.

Each step reports the time Playwright took (machine speed) and the time the same gestures
take a person under the pace model of ``bench.time_to_inform.pace``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bench.served import free_port, wait_ready
from bench.time_to_inform import pace
from bench.time_to_inform.pace import Gestures

CHROMIUM = os.environ.get("TOCSIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEMPLATE = "premiere-information-public"
SITUATION = (
    "La Somme et l'Avre sont en crue entre Amiens et Abbeville ; Vigicrues a placé ces "
    "tronçons en vigilance orange. Des routes sont coupées et des caves sont inondées."
)
SYNERGI = "SYN-80-2026-0517"
DECIDED_BY = "Préfète de la Somme"
CALL_NOTE = "Joint au téléphone, message lu."
TARGETS = {"total_s": 600.0, "system_s": 60.0}
_ACCOUNT = re.compile(r"^  (\S+)\s+(\S+)\s+(\S.*)$")
# A whole-département crisis fills the template with 771 commune names, in the body and in
# the X and SMS variants (over their limits): the communicator replaces the list by words.
_COMMUNE_LIST = re.compile(r"(?<=Communes concernées : )[^\n]{300,}|(?<=\()[^()]{300,}(?=\))")
WHOLE = "toutes les communes de la Somme"


@dataclass
class Step:
    who: str
    what: str
    machine_s: float
    gestures: Gestures
    model_s: float = 0.0

    def __post_init__(self) -> None:
        self.model_s = self.gestures.seconds()


@dataclass
class Run:
    steps: list[Step] = field(default_factory=list)

    @contextmanager
    def step(self, who: str, what: str) -> Iterator[Gestures]:
        gestures = Gestures()
        started = time.perf_counter()
        yield gestures
        self.steps.append(Step(who, what, time.perf_counter() - started, gestures))
        last = self.steps[-1]
        print(
            f"  {who:<12} {what:<58} machine {last.machine_s:6.2f} s  modèle {last.model_s:6.1f} s",
            flush=True,
        )


# -- the server ----------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    db_url: str
    process: subprocess.Popen[bytes]
    passwords: dict[str, str]
    log: Path

    def token(self, login: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "crisis", "users", "token", login, "--db", self.db_url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return out.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(workdir: Path) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db_url = f"sqlite:///{workdir / 'tocsin.db'}"
    log = workdir / "serve.log"
    env = os.environ | {"TOCSIN_SECRET_KEY": "time-to-inform-bench", "TOCSIN_BASE_URL": url}
    args = [sys.executable, "-m", "crisis", "serve", "--demo", "--db", db_url]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*args, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        took = wait_ready(url, process, limit_s=300, log=str(log))
    except RuntimeError:
        process.kill()
        raise
    passwords: dict[str, str] = {}
    for line in log.read_text(errors="replace").splitlines():
        if match := _ACCOUNT.match(line):
            passwords[match[1]] = match[2]
    print(f"Serveur prêt en {took:.1f} s sur {url} ({len(passwords)} comptes)")
    return Server(url, db_url, process, passwords, log)


# -- the browser ---------------------------------------------------------------------------


def new_page(browser: Browser) -> Page:
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def log_in(page: Page, server: Server, login: str) -> None:
    page.goto(f"{server.url}/connexion")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(server.passwords[login])
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{server.url}/")


def declare_whole_departement(page: Page, server: Server) -> int:
    """Untimed: the prefect declares the crue on every commune and orders the cell."""
    page.goto(f"{server.url}/evenements/nouveau")
    page.get_by_label("Intitulé").fill("Crue de la Somme et de ses affluents")
    page.get_by_label("Type d'événement").select_option("crue")
    page.locator("label[for=mode-real]").click()
    page.get_by_label("Arrondissement entier").select_option("departement")
    expect(page.get_by_label("Ordonner la cellule")).to_be_checked()
    page.get_by_role("button", name="Déclarer l'événement").click()
    page.wait_for_url(re.compile(r"/evenements/\d+$"))
    return int(page.url.rsplit("/", 1)[-1])


def _api(server: Server, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _shorten_list(text: str, gestures: Gestures) -> str:
    """Replace a list of hundreds of communes by « toutes les communes de la Somme »."""
    found = _COMMUNE_LIST.search(text)
    if found is None:
        return text
    gestures.glances += 1  # see that the list is the whole département
    gestures.clicks += 2  # select it (click at its start, shift-click at its end)
    gestures.typed_chars += len(WHOLE)
    return text[: found.start()] + WHOLE + text[found.end() :]


def _fill_marks(text: str, gestures: Gestures) -> str:
    """Replace each « [à compléter : …] » mark as a person would: select it, write."""
    while (start := text.find("[à compléter")) >= 0:
        end = text.index("]", start) + 1
        label = text[start:end]
        replacement = SITUATION if "ituation" in label else label  # only the situation is free
        if replacement == label:
            raise RuntimeError(f"marque inattendue dans le modèle : {label}")
        gestures.clicks += 2  # select the mark (click, shift-click)
        gestures.composed += 1
        gestures.typed_chars += len(replacement)
        text = text[:start] + replacement + text[end:]
    return text


def _utc(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _es48(api: httpx.Client, crisis_id: int) -> dict[str, Any]:
    clocks = api.get(f"/crises/{crisis_id}/clocks").json()
    found: dict[str, Any] = next(c for c in clocks if c["code"] == "ES48")
    return found


def _all_items(api: httpx.Client, bulletin_id: int, audience: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = api.get(
            f"/bulletins/{bulletin_id}/deliveries",
            params={"audience": audience, "limit": 1000, "offset": len(items)},
        ).json()["items"]
        items += page
        if len(page) < 1000:
            return items


UNSETTLED = ("pending", "sending", "retrying")


def system_share(
    api: httpx.Client, crisis_id: int, bulletin_id: int, clicked_at: datetime, clicked: float
) -> dict[str, Any]:
    """From the publish click until every delivery is settled; then who was reached when."""
    seen: dict[str, float] = {}
    deadline = clicked + 600
    last_clock = 0.0
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        counts = api.get(f"/bulletins/{bulletin_id}/deliveries", params={"limit": 1}).json()
        officials = counts["by_audience"].get("officials", {})
        if "officials" not in seen and officials and not any(officials.get(s) for s in UNSETTLED):
            seen["officials"] = now - clicked
        if now - last_clock > 1.0:
            last_clock = now
            coverage = _es48(api, crisis_id)["coverage"]
            for audience in ("media", "public"):
                if audience not in seen and (coverage.get(audience) or {}).get("covered_at"):
                    seen[audience] = now - clicked
        if counts["total"] and not any(counts["counts"].get(s) for s in UNSETTLED):
            seen.setdefault("all_settled", now - clicked)
            if {"media", "public"} <= seen.keys():
                break
        time.sleep(0.2)
    bulletin = api.get(f"/bulletins/{bulletin_id}").json()
    published_at = _utc(bulletin.get("published_at"))
    result: dict[str, Any] = {
        "observed_by_polling_s": seen,
        "counts": counts["counts"],
        "by_audience": counts["by_audience"],
        "by_channel": counts.get("by_channel", {}),
        "published_at": bulletin.get("published_at"),
        "click_to_published_at_s": (published_at - clicked_at).total_seconds()
        if published_at
        else None,
    }
    for audience in ("officials", "media", "public"):
        items = _all_items(api, bulletin_id, audience)
        first_sent: dict[str, datetime] = {}
        to_call: set[str] = set()
        recipients: set[str] = set()
        for item in items:
            key = str(item["contact_id"] or f"{item['channel']}:{item['address']}")
            recipients.add(key)
            sent = _utc(item["sent_at"])
            if item["status"] == "to_call":
                to_call.add(key)
            if sent is not None and (key not in first_sent or sent < first_sent[key]):
                first_sent[key] = sent
        last = max(first_sent.values()) if first_sent else None
        first = min(first_sent.values()) if first_sent else None
        result[audience] = {
            "recipients": len(recipients),
            "deliveries": len(items),
            "reached": len(first_sent),
            "to_call": len(to_call - first_sent.keys()),
            "unreached_other": len(recipients - first_sent.keys() - to_call),
            "first_reached_after_click_s": (first - clicked_at).total_seconds() if first else None,
            "last_reached_after_click_s": (last - clicked_at).total_seconds() if last else None,
            "last_reached_at": last.isoformat() if last else None,
        }
    result["es48_after_publish"] = _es48(api, crisis_id)
    return result


def call_the_unreachable(page: Page, server: Server, bulletin_id: int, run: Run) -> int:
    """The operator logs one call per delivery `to_call`, on the tracking page."""
    calls = 0
    with run.step("operateur", "Appels aux injoignables, notés sur la page de suivi") as g:
        page.goto(f"{server.url}/communiques/{bulletin_id}/suivi")
        g.glances += 1
        g.clicks += 1  # open the tracking page
        while True:
            form = page.locator("form[action^='/envois/']").first
            if form.count() == 0:
                break
            form.locator("input[name=note]").fill(CALL_NOTE)
            form.get_by_role("button", name="Appel passé").click()
            page.wait_for_load_state("load")
            calls += 1
            g.calls += 1
            g.clicks += 2  # the note field, the button
            g.typed_chars += len(CALL_NOTE)
    return calls


def play(server: Server, *, headed: bool) -> dict[str, Any]:
    run = Run()
    expect.set_options(timeout=60_000)
    tokens = {login: server.token(login) for login in ("communicant", "valideur", "operateur")}
    comm_api = _api(server, tokens["communicant"])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=not headed
        )
        prefect, communicator, validator, operator = (new_page(browser) for _ in range(4))
        for page, login in (
            (prefect, "prefet"),
            (communicator, "communicant"),
            (validator, "valideur"),
            (operator, "operateur"),
        ):
            log_in(page, server, login)

        print("Mise en place (non chronométrée) : déclaration, cellule, astreinte")
        crisis_id = declare_whole_departement(prefect, server)
        crisis = comm_api.get(f"/crises/{crisis_id}").json()
        for login, role in (("communicant", "communication"), ("valideur", "validator")):
            with _api(server, tokens[login]) as api:
                api.post(
                    f"/crises/{crisis_id}/cell/acknowledgements", json={"role": role}
                ).raise_for_status()
        comm_api.post(f"/crises/{crisis_id}/cell/operational").raise_for_status()
        crisis_url = f"{server.url}/evenements/{crisis_id}"
        prefect.goto(crisis_url)
        communicator.goto(crisis_url)
        validator.goto(crisis_url)
        print(f"Événement n° {crisis_id} : {len(crisis['communes'])} communes\n")

        print("Étapes chronométrées")
        load_before = os.getloadavg()
        t0_utc = datetime.now(UTC)
        t0 = time.perf_counter()
        with run.step("prefet", "Enregistrer l'activation du COD (SYNERGI)") as g:
            g.glances += 1
            prefect.get_by_label("Référence SYNERGI").fill(SYNERGI)
            prefect.get_by_label("Décidée par").fill(DECIDED_BY)
            prefect.get_by_role("button", name="Enregistrer l'activation du COD").click()
            expect(prefect.get_by_text("Activation du COD enregistrée (ES48).")).to_be_visible()
            g.clicks += 3
            g.typed_chars += len(SYNERGI) + len(DECIDED_BY)

        with run.step("communicant", "Ouvrir le rédacteur depuis le modèle « crue »") as g:
            communicator.get_by_role("link", name="Rédiger un communiqué").first.click()
            communicator.get_by_label("Partir d'un modèle").select_option(TEMPLATE)
            communicator.get_by_role("button", name="Utiliser ce modèle").click()
            expect(communicator.get_by_label("Texte")).to_contain_text("Communes concernées")
            g.clicks += 2
            g.glances += 1
            g.selects += 1

        with run.step("communicant", "Relire le modèle, compléter les mentions") as g:
            body = communicator.get_by_label("Texte")
            text = _shorten_list(body.input_value(), g)
            g.proofread_words += pace.words(text)
            completed = _fill_marks(text, g)
            body.fill(completed)
            opened = False
            for c in ("x", "sms", "mastodon", "telegram"):
                variant = communicator.locator(f"#variant_{c}").input_value()
                filled = _fill_marks(_shorten_list(variant, g), g)
                if filled == variant:
                    continue
                if not opened:
                    communicator.locator("summary", has_text="Variantes").click()
                    g.clicks += 1
                    opened = True
                g.proofread_words += pace.words(filled)
                communicator.locator(f"#variant_{c}").fill(filled)
            expect(communicator.locator("#preview")).to_contain_text("Page publique")
            g.glances += 1  # a look at the preview per channel

        with run.step("communicant", "Enregistrer le brouillon, soumettre") as g:
            communicator.get_by_role("button", name="Enregistrer le brouillon").click()
            expect(communicator.get_by_text("Brouillon n°")).to_be_visible()
            bulletin_url = communicator.url
            bulletin_id = int(bulletin_url.rsplit("/", 1)[-1])
            communicator.get_by_role("button", name="Soumettre à validation").click()
            communicator.wait_for_load_state("load")
            problems = communicator.locator(".fr-alert--error li").all_inner_texts()
            if problems:
                raise RuntimeError(f"soumission refusée : {problems}")
            status = communicator.locator("#bulletin-status")
            expect(status).to_have_text("Soumis à validation", timeout=60_000)
            g.clicks += 2
            g.glances += 1

        with run.step("communicant", "Prévenir le valideur") as g:
            g.handovers += 1

        with run.step("valideur", "Ouvrir le communiqué, le relire, le valider") as g:
            validator.goto(bulletin_url)  # a click on the bulletin in the crisis page's list
            bulletin = comm_api.get(f"/bulletins/{bulletin_id}").json()
            short = [
                r.get("text", "")
                for ch, r in (bulletin.get("renderings") or {}).items()
                if ch in ("x", "sms")
            ]
            g.proofread_words += pace.words(bulletin["title"] + " " + bulletin["body"])
            g.proofread_words += sum(pace.words(t) for t in short)
            validator.get_by_role("button", name="Valider le communiqué").click()
            expect(validator.locator("#bulletin-status")).to_have_text("Validé")
            g.clicks += 2
            g.glances += 1

        with run.step("valideur", "Prévenir le communicant") as g:
            g.handovers += 1

        with run.step("communicant", "Publier") as g:
            communicator.reload()
            publish = communicator.get_by_role("button", name="Publier maintenant")
            g.clicks += 2
            clicked_at = datetime.now(UTC)
            clicked = time.perf_counter()
            publish.click()
            expect(communicator.get_by_role("heading", level=1)).to_contain_text("Suivi des envois")
        human_machine_s = clicked - t0

        print("\nPart du système (clic « Publier » → envois)")
        system = system_share(comm_api, crisis_id, bulletin_id, clicked_at, clicked)
        for audience in ("officials", "media", "public"):
            a = system[audience]
            print(
                f"  {audience:<10} {a['reached']}/{a['recipients']} atteints, "
                f"{a['to_call']} à appeler, dernier à +{_s(a['last_reached_after_click_s'])} s"
            )
        es48_before = system["es48_after_publish"]
        load_after_publish = os.getloadavg()

        print("\nAppels de l'opérateur")
        calls = call_the_unreachable(operator, server, bulletin_id, run)
        deadline = time.perf_counter() + 120
        while (es48 := _es48(comm_api, crisis_id))["status"] not in ("met", "late"):
            if time.perf_counter() > deadline:
                break
            time.sleep(0.5)
        t_end = time.perf_counter()
        browser.close()
    comm_api.close()

    timed = run.steps
    up_to_publish = [s for s in timed if s.who != "operateur"]
    calls_steps = [s for s in timed if s.who == "operateur"]
    model_human = sum(s.model_s for s in up_to_publish)
    model_calls = sum(s.model_s for s in calls_steps)
    last_mayor = system["officials"]["last_reached_after_click_s"] or 0.0
    media_pub = max(
        system["media"]["last_reached_after_click_s"] or 0.0,
        system["public"]["last_reached_after_click_s"] or 0.0,
    )
    system_s = max(last_mayor, media_pub)
    es48_met = _utc(es48.get("met_at"))
    es48_started = _utc(es48.get("started_at"))
    return {
        "crisis_id": crisis_id,
        "bulletin_id": bulletin_id,
        "communes": len(crisis["communes"]),
        "template": TEMPLATE,
        "load_before": load_before,
        "load_after_publish": load_after_publish,
        "steps": [asdict(s) | {"gestures": s.gestures.describe()} for s in timed],
        "human_machine_s": human_machine_s,
        "human_model_s": model_human,
        "human_model_slow_s": model_human * pace.SLOW,
        "system": system,
        "system_s": system_s,
        "calls": calls,
        "calls_machine_s": sum(s.machine_s for s in calls_steps),
        "calls_model_s": model_calls,
        "es48_before_calls": {
            "status": es48_before["status"],
            "coverage": {
                k: {kk: v.get(kk) for kk in ("covered_at", "reached", "total")}
                for k, v in es48_before["coverage"].items()
            },
        },
        "es48_final": {
            "status": es48["status"],
            "started_at": es48.get("started_at"),
            "met_at": es48.get("met_at"),
            "started_to_met_s": (es48_met - es48_started).total_seconds()
            if es48_met and es48_started
            else None,
            "cod_click_to_met_s": (es48_met - t0_utc).total_seconds() if es48_met else None,
        },
        "machine_total_s": t_end - t0,
        "total_model_without_calls_s": model_human + system_s,
        "total_model_with_calls_s": model_human + system_s + model_calls,
        "targets": TARGETS,
    }


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def report(result: dict[str, Any]) -> str:
    lines = [
        "| qui | étape | machine (s) | modèle humain (s) | gestes |",
        "|---|---|---:|---:|---|",
    ]
    for s in result["steps"]:
        lines.append(
            f"| {s['who']} | {s['what']} | {s['machine_s']:.2f} | {s['model_s']:.0f} "
            f"| {s['gestures']} |"
        )
    sysm = result["system"]
    lines += [
        "",
        f"Étapes humaines, COD → clic « Publier » : machine {result['human_machine_s']:.1f} s, "
        f"modèle {result['human_model_s']:.0f} s (lent ×{pace.SLOW:.0f} : "
        f"{result['human_model_slow_s']:.0f} s)",
        f"Clic → published_at : {sysm['click_to_published_at_s']:.2f} s",
    ]
    for audience in ("officials", "media", "public"):
        a = sysm[audience]
        lines.append(
            f"{audience} : {a['reached']}/{a['recipients']} atteints, {a['to_call']} à appeler, "
            f"premier +{_s(a['first_reached_after_click_s'])} s, "
            f"dernier +{_s(a['last_reached_after_click_s'])} s"
        )
    lines += [
        f"Part du système (clic → dernier destinataire joignable) : {result['system_s']:.1f} s",
        f"ES48 avant appels : {result['es48_before_calls']}",
        f"Appels : {result['calls']} (machine {result['calls_machine_s']:.1f} s, "
        f"modèle {result['calls_model_s']:.0f} s pour un opérateur)",
        f"ES48 final : {result['es48_final']}",
        f"Total modèle sans appels : {result['total_model_without_calls_s']:.0f} s ; "
        f"avec appels (un opérateur) : {result['total_model_with_calls_s']:.0f} s",
        f"Charge : avant {result['load_before']}, après publication {result['load_after_publish']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--keep", type=Path, help="keep the database and server log here")
    parser.add_argument("--headed", action="store_true", help="show the browser")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="tocsin-tti-"))
    print(f"Charge au départ : {os.getloadavg()}")
    server = start_server(workdir)
    try:
        result = play(server, headed=args.headed)
    finally:
        server.stop()
        if args.keep:
            shutil.copytree(workdir, args.keep, dirs_exist_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0
