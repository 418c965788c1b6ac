"""Text no person can read, or no database can store, is refused with a reason."""

from __future__ import annotations

import httpx
import pytest

from crisis import journal
from crisis.app.db import Database
from tests.crisis.bulletin_support import ABBEVILLE
from tests.support import FrozenClock, make_user

CRISIS = {"title": "Crue", "kind": "crue", "mode": "real", "communes": [ABBEVILLE]}
BULLETIN = {"title": "Crue", "body": "Texte", "audiences": ["officials"]}


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/api/v1/crises", CRISIS | {"title": "Crue\x00 de la Somme"}, "caractère nul"),
        (
            "/api/v1/crises",
            CRISIS | {"title": "\u200b\u200b\u200b\u2060"},
            "aucun caractère visible",
        ),
        ("/api/v1/crises/1/bulletins", BULLETIN | {"body": "a\x00b"}, "caractère nul"),
        ("/api/v1/crises/1/bulletins", BULLETIN | {"title": "\ufeff \u200d "}, "aucun caractère"),
        (
            "/api/v1/crises/1/bulletins",
            BULLETIN | {"variants": {f"c{i}": "texte" for i in range(11)}},
            "10",
        ),
    ],
)
async def test_a_nul_character_an_invisible_title_or_too_many_variants_is_refused_with_422(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    path: str,
    body: dict[str, object],
    reason: str,
) -> None:
    user = await make_user(db, clock, "tous", "prefect", "communicator")
    async with db.read() as session:
        before = len(await journal.recent(session, limit=100))
    answer = await client.post(path, headers=user.headers, json=body)
    assert answer.status_code == 422, answer.text
    assert reason in answer.text
    async with db.read() as session:
        assert len(await journal.recent(session, limit=100)) == before
