"""A call saved from the CIP console whose answer was lost (the service killed after the
commit, the network cut) and sent again from the kept draft is logged once (issue 22 item 3)."""

from __future__ import annotations

import re

import httpx
import sqlalchemy as sa

from crisis.app.db import Database
from tests.crisis.app.test_cip_pages import _as, _open_from_the_pages
from tests.crisis.cip.cip_support import cip_world
from tests.support import FrozenClock


async def _calls(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(sa.text("SELECT count(*) FROM cip_call"))).scalar_one())


def _key(page: str) -> str:
    found = re.search(r'name="call_key" id="call-key" value="([0-9a-f]{32})"', page)
    assert found, "the call form carries its key"
    return found.group(1)


async def test_a_call_form_sent_again_with_its_key_is_logged_once_and_answers_the_same_call(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    page = await _open_from_the_pages(client, world)
    csrf = await _as(client, world.operators[0])
    key = _key((await client.get(page)).text)
    call = {
        "received_at": "2026-11-28T14:58:10",
        "topic": "roads",
        "question": "La route d'Abbeville est-elle coupée ?",
        "csrf_token": csrf,
        "call_key": key,
    }
    first = await client.post(f"{page}/appels", data=call)
    again = await client.post(f"{page}/appels", data=call)  # the draft, sent again
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert await _calls(db) == 1
    other_tab = call | {"question": "Le pont de Rue est-il fermé ?"}  # the shared draft's key
    assert (await client.post(f"{page}/appels", data=other_tab)).status_code == 303
    assert await _calls(db) == 2  # another call under the same key: saved, not swallowed
    assert (await client.post(f"{page}/appels", data=call)).headers["location"] == first.headers[
        "location"
    ]
    fresh = call | {"call_key": _key((await client.get(page)).text)}
    assert fresh["call_key"] != key  # each rendering of the form: a new call
    assert (await client.post(f"{page}/appels", data=fresh)).status_code == 303
    assert await _calls(db) == 3
    assert (await client.post(f"{page}/appels", data=call | {"call_key": ""})).status_code == 303
    assert await _calls(db) == 4  # no key (an old page): saved as before
