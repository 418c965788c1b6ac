"""Issue 18 item 10: every value a page shows a person is French — no role, CAP value, channel
kind, status or raw JSON as the code writes it.

Each page of the app is rendered as each role, over a real crisis with a cell, a COD, a
bulletin published with its deliveries (sent, failed, to call), an unrecognised reply, the
cabinet's own entries and, for the summary, the closure; the visible text (not the markup, not
`<code>` or `<pre>` showing hashes or message previews) must carry none of the internal tokens.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx

from crisis.app.db import Database
from tests.crisis.app.test_personal_data import (
    NO_PERSON_ROUTES,
    PERSON_ROUTES,
    World,
    _path,
    _world,
)
from tests.crisis.bulletin_support import load_directory, person
from tests.support import FrozenClock

INTERNAL_TOKENS = (
    # roles
    "prefect",
    "communicator",
    "validator",
    "trainer",
    "operator",
    "admin",
    # CAP values
    "Met",
    "Expected",
    "Severe",
    "Immediate",
    "Observed",
    "Likely",
    # channel kinds, the public page and the phone
    "email",
    "telegram",
    "x",
    "mastodon",
    "matrix",
    "sms",
    "phone",
    "webhook",
    "public_page",
    # audiences, areas, journal actors
    "officials",
    "media",
    "departement",
    "astreinte:",
    # statuses
    "to_call",
    "pending",
    "sent",
    "failed",
    "confirmed",
    "draft",
    "published",
    "cell_ordered",
    "cod_activated",
    # raw JSON
    "{",
    "}",
    "null",
    "true",
    "false",
)
"""Case-sensitive whole words: « SMS », « Public » or « Courriel » are the French labels.
`public` is left out: it is also a French word (« informer le public »)."""

_TOKEN = re.compile(
    "|".join(
        re.escape(t) if not t[-1].isalnum() else rf"(?<![\w@.-]){re.escape(t)}(?![\w@-])"
        for t in INTERNAL_TOKENS
    )
)
HIDDEN_TAGS = {"script", "style", "code", "pre", "template", "title"}


class _VisibleText(HTMLParser):
    """The text a person reads: text nodes outside hidden elements, plus `alt` and labels."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN_TAGS:
            self.depth += 1
        for name, value in attrs:
            if name in ("alt", "aria-label", "title", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_TAGS and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def internal_tokens(html: str) -> list[str]:
    """Each internal token found in the visible text, with a few words around it."""
    text = visible_text(html)
    return [
        f"{m.group()!r} in «{text[max(0, m.start() - 40) : m.end() + 40]}»"
        for m in _TOKEN.finditer(text)
    ]


def test_the_scan_finds_raw_values_and_spares_french_labels_and_hidden_code() -> None:
    raw = '<td>{"role":"communicator"}</td><p>SMS — 1 segments, email</p><p>Met</p>'
    assert [t.split()[0] for t in internal_tokens(raw)] == [
        "'{'",
        "'communicator'",
        "'}'",
        "'email'",
        "'Met'",
    ]
    french = (
        "<p>Courriel, SMS, Public, Méthode, anne@mairie.test, x-large</p>"
        "<code>{abc}</code><pre>sms</pre><script>var x = {}</script>"
        '<input value="prefect" type="hidden">'
    )
    assert internal_tokens(french) == []


PAGES = sorted(
    template
    for template in {t.split("?")[0] for t in PERSON_ROUTES} | set(NO_PERSON_ROUTES)
    if not template.startswith(("/api/", "/healthz", "/readyz", "/metrics", "/flux"))
    and not template.endswith((".csv", ".pdf"))
    and "{token}" not in template
    and "{key}" not in template
)
AFTER_CLOSURE = ("/evenements/{crisis_id}/bilan", "/evenements/{crisis_id}/bilan.html")
ROLES = ("prefet", "com", "valideur", "formateur", "operateur", "admin")


async def _cabinet_entries(client: httpx.AsyncClient, world: World) -> None:
    for login, kind, text, source in (
        ("prefet", "decision", "Évacuation du camping", "appel du maire d'Abbeville"),
        ("com", "information", "La RD 901 est coupée", "SYNERGI"),
        ("operateur", "action", "Numéro CIP diffusé aux mairies", None),
    ):
        written = await client.post(
            f"/api/v1/crises/{world.crisis_id}/journal",
            json={"kind": kind, "text": text, "source": source},
            headers=world.users[login].headers,
        )
        assert written.status_code == 201, written.text


async def _leaks(client: httpx.AsyncClient, world: World, pages: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for template in pages:
        for login in ROLES:
            answer = await client.get(_path(template, world), headers=world.users[login].headers)
            if answer.status_code != 200 or "text/html" not in answer.headers["content-type"]:
                continue
            if tokens := internal_tokens(answer.text):
                found[f"{login} {template}"] = tokens
    return found


async def test_no_page_shows_an_internal_code_to_any_role(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await _world(client, db, clock, logins={"admin": "gestionnaire"})
    await _cabinet_entries(client, world)
    # a newsroom covers the whole département: « Département 80 », not « departement 80 »
    await load_directory(db, clock.now(), [person("redaction", "media", [("email", "r@j.test")])])
    pages = [p for p in PAGES if p not in AFTER_CLOSURE] + ["/fiches-reflexes/crue"]
    leaks = await _leaks(client, world, pages)
    closed = await client.post(
        f"/api/v1/crises/{world.crisis_id}/close", headers=world.users["prefet"].headers
    )
    assert closed.status_code == 200, closed.text
    leaks |= await _leaks(
        client, world, [*AFTER_CLOSURE, "/evenements/{crisis_id}/main-courante", "/"]
    )
    assert leaks == {}, "\n".join(f"{page}: {found}" for page, found in leaks.items())
