"""`POST /api/v1/crises/{id}/journal`: the cabinet writes its decisions, information and
actions in the main courante; `GET …/journal?kind=&author=&q=` narrows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from crisis import journal_verification
from crisis.app.db import Database
from tests.support import FrozenClock, TestUser, make_user

CRUE = {"title": "Crue de l'Avre", "kind": "crue", "mode": "real", "communes": ["80001"]}
DRILL = CRUE | {"title": "Exercice crue", "mode": "exercise"}


async def _declare(client: httpx.AsyncClient, prefect: TestUser, body: Mapping[str, object]) -> int:
    answer = await client.post("/api/v1/crises", json=body, headers=prefect.headers)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def _entries(
    client: httpx.AsyncClient, user: TestUser, crisis_id: int, **query: str
) -> list[dict[str, Any]]:
    answer = await client.get(
        f"/api/v1/crises/{crisis_id}/journal", params=query, headers=user.headers
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_a_decision_written_by_the_prefect_joins_the_chain_with_its_time_author_source(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    crisis_id = await _declare(client, prefect, CRUE)
    clock.advance(minutes=20)
    written = await client.post(
        f"/api/v1/crises/{crisis_id}/journal",
        json={
            "kind": "decision",
            "text": "Évacuation préventive du camping de Montdidier.",
            "occurred_at": "2026-11-28T15:10:00+01:00",
            "source": "appel du maire de Montdidier",
        },
        headers=prefect.headers,
    )
    assert written.status_code == 201, written.text
    entry = written.json()
    assert entry["action"] == "cabinet.decision" and entry["actor"] == "prefet"
    assert entry["payload"] == {
        "text": "Évacuation préventive du camping de Montdidier.",
        "occurred_at": "2026-11-28T14:10:00+00:00",
        "source": "appel du maire de Montdidier",
    }
    assert entry["at"] == "2026-11-28T14:20:00+00:00"
    assert (await _entries(client, prefect, crisis_id))[-1]["hash"] == entry["hash"]
    async with db.read() as session:
        assert (await journal_verification.verify(session, crisis_id=crisis_id)).ok
        assert (await journal_verification.verify(session)).ok


async def test_without_a_time_the_fact_is_dated_now(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    operator = await make_user(db, clock, "cip", "operator")
    crisis_id = await _declare(client, prefect, CRUE)
    written = await client.post(
        f"/api/v1/crises/{crisis_id}/journal",
        json={"kind": "information", "text": "La RD 930 est coupée."},
        headers=operator.headers,
    )
    assert written.status_code == 201
    assert written.json()["payload"]["occurred_at"] == "2026-11-28T14:00:00+00:00"
    assert written.json()["payload"]["source"] is None


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        ({"kind": "decision", "text": "   \u200b "}, "text_empty", "il est vide"),
        ({"kind": "decision", "text": "x" * 4001}, "text_too_long", "4001 caractères"),
        (
            {"kind": "action", "text": "Point presse", "occurred_at": "2026-11-28T14:01:00Z"},
            "occurred_at_in_future",
            "ne peut pas être dans le futur",
        ),
    ],
)
async def test_an_empty_or_too_long_text_or_a_future_time_is_refused_and_nothing_written(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    body: dict[str, str],
    code: str,
    reason: str,
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    crisis_id = await _declare(client, prefect, CRUE)
    before = await _entries(client, prefect, crisis_id)
    refused = await client.post(
        f"/api/v1/crises/{crisis_id}/journal", json=body, headers=prefect.headers
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == code and reason in error["message"]
    assert await _entries(client, prefect, crisis_id, kind="cabinet") == []
    assert len(await _entries(client, prefect, crisis_id)) == len(before)


async def test_a_closed_crisis_refuses_a_new_entry_with_409(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    crisis_id = await _declare(client, prefect, CRUE)
    closed = await client.post(f"/api/v1/crises/{crisis_id}/close", headers=prefect.headers)
    assert closed.status_code == 200, closed.text
    refused = await client.post(
        f"/api/v1/crises/{crisis_id}/journal",
        json={"kind": "decision", "text": "Trop tard"},
        headers=prefect.headers,
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["message"].startswith("L'événement est clos")
    assert await _entries(client, prefect, crisis_id, kind="cabinet") == []


async def test_a_trainer_writes_in_an_exercise_but_not_in_a_real_crisis_and_an_admin_never(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    trainer = await make_user(db, clock, "formateur", "trainer")
    admin = await make_user(db, clock, "admin", "admin")
    real = await _declare(client, prefect, CRUE)
    drill = await _declare(client, prefect, DRILL)
    note = {"kind": "information", "text": "Inject n° 3 : la digue cède."}
    in_drill = await client.post(
        f"/api/v1/crises/{drill}/journal", json=note, headers=trainer.headers
    )
    assert in_drill.status_code == 201
    for user, crisis_id in ((trainer, real), (admin, real), (admin, drill)):
        refused = await client.post(
            f"/api/v1/crises/{crisis_id}/journal", json=note, headers=user.headers
        )
        assert refused.status_code == 403, (user.login, crisis_id)
    assert await _entries(client, prefect, real, kind="cabinet") == []


async def test_the_journal_is_filtered_by_kind_author_and_words_of_the_entry_as_shown(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    com = await make_user(db, clock, "com", "communicator")
    crisis_id = await _declare(client, prefect, CRUE)
    notes = [
        (prefect, "decision", "Fermeture des écoles d'Abbeville", "SYNERGI"),
        (com, "information", "Le maire signale une coupure d'eau", "appel du maire d'Abbeville"),
        (com, "action", "Point presse à 17 h", None),
    ]
    for user, kind, text, source in notes:
        body = {"kind": kind, "text": text, "source": source}
        written = await client.post(
            f"/api/v1/crises/{crisis_id}/journal", json=body, headers=user.headers
        )
        assert written.status_code == 201

    def texts(items: list[dict[str, Any]]) -> list[str]:
        return [i["payload"]["text"] for i in items]

    assert len(await _entries(client, prefect, crisis_id, kind="cabinet")) == 3
    decisions = await _entries(client, prefect, crisis_id, kind="decision")
    assert texts(decisions) == ["Fermeture des écoles d'Abbeville"]
    by_com = await _entries(client, prefect, crisis_id, author="com")
    assert texts(by_com) == ["Le maire signale une coupure d'eau", "Point presse à 17 h"]
    # words, any case, in the text, the source or the French label of the action
    assert texts(await _entries(client, prefect, crisis_id, q="MAIRE abbeville")) == [
        "Le maire signale une coupure d'eau"
    ]
    assert texts(await _entries(client, prefect, crisis_id, q="information reçue")) == [
        "Le maire signale une coupure d'eau"
    ]
    declared = await _entries(client, prefect, crisis_id, q="Crue de l'Avre")
    assert [i["action"] for i in declared] == ["crisis.declared"]
    unknown = await client.get(
        f"/api/v1/crises/{crisis_id}/journal", params={"kind": "rumeur"}, headers=prefect.headers
    )
    assert unknown.status_code == 422 and "Type d'entrée inconnu" in unknown.text
