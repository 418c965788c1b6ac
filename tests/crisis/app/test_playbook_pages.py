from __future__ import annotations

import html

import httpx

from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.app.web.playbook_pages import previews
from tests.crisis.app.web_session import log_in
from tests.support import FrozenClock, make_user


async def test_the_library_page_lists_every_shipped_playbook(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "com", "communicator")
    await log_in(client, user.login, user.password)
    page = await client.get("/fiches-reflexes")
    assert page.status_code == 200
    for playbook in playbook_library().values():
        assert f'href="/fiches-reflexes/{playbook.key}"' in page.text


async def test_a_playbook_page_shows_its_checklist_and_a_preview_per_channel(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "com", "communicator")
    await log_in(client, user.login, user.password)
    crue = next(p for p in playbook_library().values() if p.kind == "crue")
    page = await client.get(f"/fiches-reflexes/{crue.key}")
    assert page.status_code == 200
    assert crue.checklist[0].title in html.unescape(page.text)
    assert "Élus — Courriel" in page.text and "Public — X" in page.text


def test_every_shipped_template_renders_on_each_of_its_channels_without_problem() -> None:
    for playbook in playbook_library().values():
        rendered = previews(playbook)
        assert rendered, playbook.key
        assert [p for p in rendered if p.problems] == [], playbook.key


async def test_an_unknown_playbook_is_404(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "com", "communicator")
    await log_in(client, user.login, user.password)
    assert (await client.get("/fiches-reflexes/inconnue")).status_code == 404
