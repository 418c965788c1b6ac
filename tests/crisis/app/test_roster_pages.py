"""Issue 18 item 12: the roster page edits the roster (add, change, swap, delete, import),
for administrators and the prefect's office; the others read it and are refused (403)."""

from __future__ import annotations

import re

import httpx

from crisis.app.db import Database
from tests.crisis.app.web_session import csrf_of, log_in
from tests.support import FrozenClock, make_user

_ROW_ACTIONS = re.compile(r'href="/astreinte/tours/(\d+)/modifier"')


async def _add(client: httpx.AsyncClient, csrf: str, person: int, starts: str, ends: str) -> int:
    answer = await client.post(
        "/astreinte/tours",
        data={
            "csrf_token": csrf,
            "role": "validator",
            "level": "1",
            "starts_at": starts,
            "ends_at": ends,
            "person": f"user:{person}",
        },
    )
    assert answer.status_code == 303, answer.text
    return int(_ROW_ACTIONS.findall((await client.get("/astreinte")).text)[-1])


async def test_the_prefect_adds_changes_swaps_and_deletes_shifts_from_the_roster_page(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    anne = await make_user(db, clock, "anne", "validator")
    bruno = await make_user(db, clock, "bruno", "validator")
    csrf = await log_in(client, prefect.login, prefect.password)
    first = await _add(client, csrf, anne.id, "2026-11-29T08:00", "2026-12-06T08:00")
    second = await _add(client, csrf, bruno.id, "2026-12-06T08:00", "2026-12-13T08:00")
    page = (await client.get("/astreinte")).text
    assert "29/11/2026 à 8 h 00" in page  # read back in Paris time

    form = await client.get(f"/astreinte/tours/{first}/modifier")
    assert 'value="2026-11-29T08:00"' in form.text
    changed = await client.post(
        f"/astreinte/tours/{first}",
        data={"csrf_token": csrf, "role": "prefect", "level": "2",
              "starts_at": "2026-11-29T09:00", "ends_at": "2026-12-06T08:00",
              "person": f"user:{anne.id}"},
    )  # fmt: skip
    assert changed.status_code == 303
    swapped = await client.post(
        "/astreinte/echange", data={"csrf_token": csrf, "first": first, "second": second}
    )
    assert swapped.status_code == 303
    row = r'<tr><td>([^<]+)</td><td>[^<]+</td><th scope="row">([^<]+)</th><td>(\d)</td><td>(\w+)<'
    rows = re.findall(row, (await client.get("/astreinte")).text)
    assert rows == [
        ("29/11/2026 à 9 h 00", "Corps préfectoral de permanence", "2", "bruno"),
        ("06/12/2026 à 8 h 00", "Valideur d&#39;astreinte", "1", "anne"),
    ]
    deleted = await client.post(f"/astreinte/tours/{second}/suppression", data={"csrf_token": csrf})
    assert deleted.status_code == 303
    assert _ROW_ACTIONS.findall((await client.get("/astreinte")).text) == [str(first)]


async def test_a_shift_that_makes_no_sense_is_refused_in_french_and_nothing_is_added(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, prefect.login, prefect.password)
    answer = await client.post(
        "/astreinte/tours",
        data={"csrf_token": csrf, "role": "validator", "level": "1",
              "starts_at": "2026-12-06T08:00", "ends_at": "2026-12-01T08:00",
              "person": f"user:{prefect.id}"},
        follow_redirects=True,
    )  # fmt: skip
    assert "La fin de l&#39;astreinte doit suivre son début." in answer.text
    assert _ROW_ACTIONS.findall(answer.text) == []


async def test_a_communicator_reads_the_roster_but_cannot_edit_it(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    com = await make_user(db, clock, "com", "communicator")
    csrf = await log_in(client, com.login, com.password)
    page = await client.get("/astreinte")
    assert page.status_code == 200 and "Ajouter un tour" not in page.text
    data = {"csrf_token": csrf, "role": "validator", "level": "1",
            "starts_at": "2026-12-01T08:00", "ends_at": "2026-12-06T08:00",
            "person": f"user:{com.id}"}  # fmt: skip
    assert (await client.post("/astreinte/tours", data=data)).status_code == 403
    assert (await client.get("/astreinte/import")).status_code == 403
    assert (
        await client.post("/astreinte/echange", data={"csrf_token": csrf, "first": 1, "second": 2})
    ).status_code == 403


async def test_a_roster_file_is_dry_run_then_imported_without_choosing_it_again(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin", "admin")
    await make_user(db, clock, "anne", "validator")
    csrf = await log_in(client, admin.login, admin.password)
    content = (
        b"role;niveau;debut;fin;utilisateur\nvaleur;1;2026-12-01 08:00;2026-12-08 08:00;anne\n"
    )
    refused = await client.post(
        "/astreinte/import",
        data={"csrf_token": csrf, "dry_run": "1"},
        files={"file": ("tours.csv", content, "text/csv")},
    )
    assert refused.status_code == 422 and "rôle « valeur » inconnu" in refused.text
    assert "Importer ce fichier" not in refused.text
    content = content.replace(b"valeur", b"valideur")
    dry = await client.post(
        "/astreinte/import",
        data={"csrf_token": csrf, "dry_run": "1"},
        files={"file": ("tours.csv", content, "text/csv")},
    )
    assert dry.status_code == 200 and "1 à ajouter" in dry.text
    digest = re.search(r'name="sha256" value="([0-9a-f]{64})"', dry.text)
    assert digest
    applied = await client.post(
        "/astreinte/import/confirmation",
        data={"csrf_token": csrf_of(dry.text), "sha256": digest.group(1)},
    )
    assert applied.status_code == 200 and "Import effectué" in applied.text
    assert len(_ROW_ACTIONS.findall((await client.get("/astreinte")).text)) == 1
