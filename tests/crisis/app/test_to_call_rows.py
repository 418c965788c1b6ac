"""The tracking page's « À appeler » rows: commune, function, every known number (the mairie's
too) and a link to the directory entry; numbers only for the roles that see personal data.
Watched live, the tracking fragment is rendered once per change for each visibility class,
every viewer with their own CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import httpx
import pytest

from crisis.app.db import Database
from crisis.app.web import live_stream
from tests.crisis.bulletin_support import ABBEVILLE, load_directory, person, published
from tests.support import FrozenClock, TestUser, make_user

MAYOR_PHONE, MAIRIE_PHONE, MAIRIE_MOBILE = "+33353019998", "+33322240000", "+33622240001"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Tracked:
    bulletin_id: int
    mayor_id: int
    users: dict[str, TestUser]


@pytest.fixture
async def tracked(client: httpx.AsyncClient, db: Database, clock: FrozenClock) -> Tracked:
    users = {
        "com": await make_user(db, clock, "com", "communicator"),
        "com2": await make_user(db, clock, "com2", "communicator"),
        "operateur": await make_user(db, clock, "operateur", "operator"),
        "prefet": await make_user(db, clock, "prefet", "prefect"),
    }
    mayor = replace(
        person("maire-a-appeler", "officials", [("phone", MAYOR_PHONE)]), last_name="Sanscanal"
    )
    mairie = replace(
        person("mairie-abbeville", "officials", [("phone", MAIRIE_PHONE), ("sms", MAIRIE_MOBILE)]),
        kind="organisation",
        function="autre",
        last_name="",
        first_name="",
        organisation="Mairie d'Abbeville",
    )
    await load_directory(db, clock.now(), [mayor, mairie])
    body = {"title": "Crue", "kind": "crue", "mode": "real", "communes": [ABBEVILLE]}
    answer = await client.post("/api/v1/crises", json=body, headers=users["prefet"].headers)
    crisis_id = answer.json()["id"]
    bulletin_id = await published(
        db, clock.now(), crisis_id=crisis_id, audiences=["officials"], channels=["email"]
    )
    found = await client.get("/api/v1/contacts?q=Sanscanal", headers=users["com"].headers)
    return Tracked(bulletin_id, found.json()["items"][0]["id"], users)


def _row(page: str, name: str) -> str:
    rows = re.findall(r'<tr id="a-appeler-\d+">.*?</tr>', page, flags=re.S)
    return next(r for r in rows if name in r)


async def test_a_row_to_call_shows_commune_function_all_numbers_and_the_contact(
    client: httpx.AsyncClient, tracked: Tracked
) -> None:
    url = f"/fragments/communiques/{tracked.bulletin_id}/suivi"
    page = (await client.get(url, headers=tracked.users["com"].headers)).text
    row = _row(page, "Sanscanal")
    assert "Abbeville" in row and "Maire" in row
    assert f'href="/annuaire/{tracked.mayor_id}"' in row
    assert f'href="tel:{MAYOR_PHONE}"' in row
    assert f'Mairie (téléphone) : <a href="tel:{MAIRIE_PHONE}"' in row
    assert f'Mairie (mobile) : <a href="tel:{MAIRIE_MOBILE}"' in row


async def test_a_role_without_need_to_know_sees_the_function_and_place_but_no_number(
    client: httpx.AsyncClient, tracked: Tracked
) -> None:
    url = f"/fragments/communiques/{tracked.bulletin_id}/suivi"
    page = (await client.get(url, headers=tracked.users["operateur"].headers)).text
    assert "Abbeville" in page and "Maire" in page and "Numéros masqués pour votre rôle" in page
    for number in (MAYOR_PHONE, MAIRIE_PHONE, MAIRIE_MOBILE, MAYOR_PHONE[3:], "Sanscanal"):
        assert number not in page


async def test_a_fragment_watched_live_is_rendered_once_per_change_per_visibility_class(
    client: httpx.AsyncClient, tracked: Tracked
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    hub = live_stream.hub_of(app)
    topic = f"communique:{tracked.bulletin_id}"
    async with hub.subscribe(topic) as subscription:
        await subscription.next()  # the topic has its first figures: a version
        url = f"/fragments/communiques/{tracked.bulletin_id}/suivi"
        pages = {}
        for login in ("com", "com2", "operateur", "com"):
            async with httpx.AsyncClient(  # each viewer their own session: their own token
                transport=client._transport, base_url="http://tocsin.test"
            ) as own:
                answer = await own.get(url, headers=tracked.users[login].headers)
            pages.setdefault(login, []).append(answer.text)
        shared = live_stream.shared_fragments(app)
        assert shared.renders == 2  # the communicators' rendering, the operator's
        tokens = {login: CSRF.findall(p[0])[0] for login, p in pages.items()}
        assert len(set(tokens.values())) == 3 and live_stream.CSRF_MARK not in str(pages)
        assert MAYOR_PHONE in pages["com2"][0] and MAYOR_PHONE not in pages["operateur"][0]
        await hub.refresh()  # nothing moved: the same rendering still serves
        await client.get(url, headers=tracked.users["com"].headers)
        assert shared.renders == 2


async def test_a_fragment_asked_for_just_after_an_action_shows_it_before_the_figures_move(
    client: httpx.AsyncClient, tracked: Tracked
) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    hub = live_stream.hub_of(app)
    headers = tracked.users["com"].headers
    url = f"/fragments/communiques/{tracked.bulletin_id}/suivi"
    async with hub.subscribe(f"communique:{tracked.bulletin_id}") as subscription:
        await subscription.next()
        assert "Sanscanal" in (await client.get(url, headers=headers)).text
        deliveries = f"/api/v1/bulletins/{tracked.bulletin_id}/deliveries?status=to_call"
        rows = (await client.get(deliveries, headers=headers)).json()["items"]
        [called] = [d["id"] for d in rows if "Sanscanal" in d["recipient_name"]]
        confirm = f"/api/v1/deliveries/{called}/confirm"
        answer = await client.post(confirm, json={"note": "joint"}, headers=headers)
        assert answer.status_code == 200, answer.text
        # no round of the hub yet: its figures still say what they said before the call
        assert "Sanscanal" not in (await client.get(url, headers=headers)).text
