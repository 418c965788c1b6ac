"""A crisis with its CIP staff: a prefect, a communicator, a validator, a head and operators."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from crisis.app.db import Database
from tests.support import FrozenClock, TestUser, make_user

NUMBER = "0 800 10 02 00"
ABBEVILLE, AMIENS = "80001", "80021"


@dataclass
class CipWorld:
    crisis_id: int
    prefect: TestUser
    com: TestUser
    validator: TestUser
    head: TestUser
    operators: list[TestUser]

    @property
    def base(self) -> str:
        return f"/api/v1/crises/{self.crisis_id}/cip"


async def cip_world(client: httpx.AsyncClient, db: Database, clock: FrozenClock) -> CipWorld:
    """A declared crisis (no cell ordered: the CIP needs neither the cell nor the COD)."""
    prefect = await make_user(db, clock, "prefet", "prefect")
    body = {
        "title": "Crue de la Somme",
        "kind": "crue",
        "mode": "real",
        "communes": [ABBEVILLE, AMIENS],
        "activate_cell": False,
    }
    created = await client.post("/api/v1/crises", json=body, headers=prefect.headers)
    assert created.status_code == 201, created.text
    return CipWorld(
        crisis_id=created.json()["id"],
        prefect=prefect,
        com=await make_user(db, clock, "com", "communicator"),
        validator=await make_user(db, clock, "valideur", "validator"),
        head=await make_user(db, clock, "cheffe", "operator"),
        operators=[await make_user(db, clock, f"op{n}", "operator") for n in (1, 2, 3)],
    )


async def ordered(client: httpx.AsyncClient, world: CipWorld) -> httpx.Response:
    answer = await client.post(
        world.base,
        json={"number": NUMBER, "ordered_by": "Mme la préfète"},
        headers=world.prefect.headers,
    )
    assert answer.status_code == 201, answer.text
    return answer


async def opened(client: httpx.AsyncClient, world: CipWorld, *, order: bool = True) -> None:
    """Ordered, a head and two operators checked in, declared open by the head."""
    if order:
        await ordered(client, world)
    staff = [
        (world.head, "head"),
        (world.operators[0], "operator"),
        (world.operators[1], "operator"),
    ]
    for user, role in staff:
        answer = await client.post(
            f"{world.base}/operators", json={"role": role}, headers=user.headers
        )
        assert answer.status_code == 201, answer.text
    answer = await client.post(f"{world.base}/open", headers=world.head.headers)
    assert answer.status_code == 200, answer.text


async def summary_texts(client: httpx.AsyncClient, world: CipWorld) -> tuple[str, str]:
    """The crisis closed by the prefect, its summary page and its PDF's text (spaces joined)."""
    import io

    from pypdf import PdfReader

    closed = await client.post(
        f"/api/v1/crises/{world.crisis_id}/close", headers=world.prefect.headers
    )
    assert closed.status_code == 200, closed.text
    page = await client.get(f"/evenements/{world.crisis_id}/bilan", headers=world.prefect.headers)
    pdf = await client.get(
        f"/evenements/{world.crisis_id}/synthese.pdf", headers=world.prefect.headers
    )
    reader = PdfReader(io.BytesIO(pdf.content))
    return page.text, " ".join(" ".join(p.extract_text() for p in reader.pages).split())
