"""Issue 18 item 6: the composer speaks with one voice. The preview judges the form as the save
and the submission do, in French, each problem naming its field; communes by name or code;
before publishing, who will receive it, and a confirmation that repeats it."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from crisis.app.db import Database
from tests.crisis.app.web_session import csrf_of, log_in
from tests.crisis.bulletin_support import (
    BODY,
    TITLE,
    approved,
    declare,
    load_directory,
)
from tests.support import FrozenClock, make_user

GOOD = {"title": TITLE, "body": BODY, "audiences": ["officials"], "channels": ["email", "sms"]}
BAD_DRAFTS = {
    "un canal du public sans le public": GOOD | {"channels": ["email", "x"]},
    "sans public ni canal": GOOD | {"audiences": [], "channels": []},
    "titre trop court et commune inconnue": GOOD | {"title": "a", "communes": "Atlantide, 80001"},
    "cascade sans délai": GOOD | {"strategy": "cascade", "cascade_minutes": "0"},
    "page publique pour les élus": GOOD | {"channels": ["public_page", "mastodon"]},
}
RAW_TOKENS = re.compile(r"« (x|mastodon|public_page|email|sms|all|cascade) »")


def _problems(html: str, box: str = "") -> list[str]:
    """The messages of the problem lists (of the element `box` when given)."""
    if box:
        html = html[html.index(f'id="{box}"') :]
        html = html[: html.index("</ul>")]
    found = re.findall(r'<li data-code="[^"]*" data-field="[^"]*"><a[^>]*>(.*?)</a></li>', html)
    return [unescape(m) for m in found]


async def _composer(client: httpx.AsyncClient, db: Database, clock: FrozenClock) -> tuple[int, str]:
    user = await make_user(db, clock, "com", "communicator")
    await log_in(client, user.login, user.password)
    crisis_id = await declare(db, clock.now())
    page = await client.get(f"/evenements/{crisis_id}/communiques/nouveau")
    return crisis_id, csrf_of(page.text)


@pytest.mark.parametrize("form", BAD_DRAFTS.values(), ids=BAD_DRAFTS.keys())
async def test_the_preview_lists_exactly_the_problems_the_save_refuses_in_french(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, form: dict[str, object]
) -> None:
    crisis_id, csrf = await _composer(client, db, clock)
    data = {"csrf_token": csrf, "strategy": "all"} | form
    preview = await client.post(f"/evenements/{crisis_id}/communiques/apercu", data=data)
    saved = await client.post(f"/evenements/{crisis_id}/communiques/nouveau", data=data)
    assert preview.status_code == 200 and saved.status_code == 422
    said, refused = _problems(preview.text, "preview-to-save"), _problems(saved.text)
    assert said and said == refused
    assert "cinq éléments sont présents" not in preview.text.split('id="preview-to-save"')[0]
    assert not [m for m in said if RAW_TOKENS.search(m)], said


async def test_each_problem_names_the_field_it_concerns(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, csrf = await _composer(client, db, clock)
    bad = BAD_DRAFTS["titre trop court et commune inconnue"]
    data = {"csrf_token": csrf, "strategy": "all"} | bad
    saved = await client.post(f"/evenements/{crisis_id}/communiques/nouveau", data=data)
    fields = re.findall(r'data-field="([^"]*)"><a href="#([^"]*)"', saved.text)
    assert ("title", "title") in fields and ("communes", "communes") in fields
    assert "Communes inconnues (ni nom ni code INSEE) : Atlantide." in unescape(saved.text)


async def test_the_preview_says_what_the_submission_will_refuse(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, csrf = await _composer(client, db, clock)
    data = {"csrf_token": csrf, "strategy": "all"} | GOOD | {"body": "Il pleut."}
    preview = await client.post(f"/evenements/{crisis_id}/communiques/apercu", data=data)
    said = _problems(preview.text, "preview-to-submit")
    saved = await client.post(f"/evenements/{crisis_id}/communiques/nouveau", data=data)
    assert saved.status_code == 303 and said  # saved as a draft, not ready to submit
    bulletin_id = saved.headers["location"].rsplit("/", 1)[1]
    page = await client.get(f"/communiques/{bulletin_id}")
    submit = await client.post(
        f"/communiques/{bulletin_id}/soumettre", data={"csrf_token": csrf_of(page.text)}
    )
    assert submit.status_code == 422
    assert all(m in unescape(submit.text) for m in said)


async def test_communes_by_name_or_code_are_saved_as_their_codes_and_shown_by_name(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, csrf = await _composer(client, db, clock)
    typed = {"communes": "amiens, Abbeville (80001)"}  # a name, and a choice of the list
    data = {"csrf_token": csrf, "strategy": "all"} | GOOD | typed
    saved = await client.post(f"/evenements/{crisis_id}/communiques/nouveau", data=data)
    assert saved.status_code == 303, _problems(saved.text)
    bulletin_id = saved.headers["location"].rsplit("/", 1)[1]
    edit = await client.get(f"/communiques/{bulletin_id}/modifier")
    assert 'value="Amiens (80021), Abbeville (80001)"' in edit.text
    assert 'name="communes_text" value="Amiens et Abbeville"' in edit.text
    preview = await client.post(
        f"/evenements/{crisis_id}/communiques/apercu", data=data | {"communes": "80001"}
    )
    assert 'data-communes-text="Abbeville"' in preview.text


async def test_publishing_from_the_web_shows_the_recipients_and_asks_for_confirmation(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "com2", "communicator")
    await log_in(client, user.login, user.password)
    await load_directory(db, clock.now())
    crisis_id = await declare(db, clock.now())
    bulletin_id = await approved(
        db, clock.now(), crisis_id=crisis_id, audiences=["officials", "media"], channels=["sms"]
    )
    page = await client.get(f"/communiques/{bulletin_id}")
    # Abbeville: three officials, two without SMS (to call); the newsroom by e-mail only.
    sentence = "3 élus (2 à appeler), 1 média (1 à appeler)"
    assert sentence in page.text and "Publier…" in page.text
    unconfirmed = await client.post(
        f"/communiques/{bulletin_id}/publier", data={"csrf_token": csrf_of(page.text)}
    )
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == f"/communiques/{bulletin_id}/publier"
    confirm = await client.get(unconfirmed.headers["location"])
    assert sentence in confirm.text and "Confirmer et publier" in confirm.text
    still = await client.get(f"/api/v1/bulletins/{bulletin_id}/recipients")
    assert still.json()["sentence"] == sentence
    published = await client.post(
        f"/communiques/{bulletin_id}/publier",
        data={"csrf_token": csrf_of(confirm.text), "confirme": "1"},
    )
    assert published.headers["location"] == f"/communiques/{bulletin_id}/suivi"
    followed = await client.get(f"/api/v1/bulletins/{bulletin_id}/deliveries")
    counts = followed.json()["counts"]
    assert counts.get("to_call") == 3 and followed.json()["total"] == 4
