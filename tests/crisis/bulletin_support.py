"""Shared helpers for the bulletin tests: a crisis, a small directory, a complete text."""

from __future__ import annotations

from datetime import datetime

from contacts.records import ChannelRecord, ContactRecord
from crisis import directory
from crisis.actors import SYSTEM, Actor, Role
from crisis.app.db import Database
from crisis.bulletin import publication
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.workflow import Bulletin, ChannelPolicy, Draft
from crisis.cell import crises
from crisis.vocabulary import CrisisMode

ABBEVILLE, AMIENS = "80001", "80021"
TITLE = "Crue de la Somme à Abbeville"
BODY = """Situation (14 h) : la Somme déborde à Abbeville.
Communes concernées : Abbeville.
Consignes : ne vous engagez pas sur les routes inondées.
Pour en savoir plus : https://www.somme.gouv.fr et ici Picardie.
Prochain point : 18 h."""

COMMUNICATOR = Actor(1, "com", frozenset({Role.COMMUNICATOR}))
OTHER_COMMUNICATOR = Actor(4, "com2", frozenset({Role.COMMUNICATOR}))
VALIDATOR = Actor(2, "valideur", frozenset({Role.VALIDATOR}))
PREFECT = Actor(3, "prefet", frozenset({Role.PREFECT}))
OPERATOR = Actor(5, "operateur", frozenset({Role.OPERATOR}))
AUTHOR_AND_VALIDATOR = Actor(1, "com", frozenset({Role.COMMUNICATOR, Role.VALIDATOR}))

POLICY = ChannelPolicy(
    public_accounts={"x": "@prefet80", "mastodon": "@prefet80", "telegram": "@prefet80_alertes"},
    exercise_public_accounts={"x": "@bac_a_sable", "telegram": "@bac_a_sable_exercice"},
    base_url="https://tocsin.test",
)


def draft(**changes: object) -> Draft:
    values: dict[str, object] = {
        "title": TITLE,
        "body": BODY,
        "audiences": ["officials", "media", "public"],
        "channels": ["email", "sms", "telegram", "x", "public_page"],
    }
    values.update(changes)
    if "public" not in values["audiences"] and "channels" not in changes:  # type: ignore[operator]
        values["channels"] = ["email", "sms", "telegram"]
    return Draft(**values)  # type: ignore[arg-type]


async def declare(db: Database, now: datetime, *, mode: CrisisMode = CrisisMode.REAL) -> int:
    async with db.transaction() as session:
        crisis = await crises.declare(
            session,
            actor=SYSTEM,
            title="Crue de la Somme",
            kind="crue",
            mode=mode,
            communes=[ABBEVILLE],
            now=now,
        )
        assert crisis.id is not None
        return crisis.id


def person(
    key: str, audience: str, channels: list[tuple[str, str]], *, code: str = ABBEVILLE
) -> ContactRecord:
    return ContactRecord(
        key=key,
        line=0,
        audience=audience,
        function="maire" if audience == "officials" else "autre",
        last_name=key.upper(),
        first_name="Camille",
        kind="person",
        area_level="commune" if audience == "officials" else "departement",
        area_code=code if audience == "officials" else "80",
        departement="80",
        active=True,
        channels=tuple(
            ChannelRecord(kind, address, verified=True, preference=rank)
            for rank, (kind, address) in enumerate(channels)
        ),
    )


DIRECTORY = [
    person("maire-abbeville", "officials", [("sms", "+33639980001"), ("email", "m@a.test")]),
    person("adjoint-abbeville", "officials", [("email", "adj@a.test")]),
    person("maire-sans-canal", "officials", [("phone", "+33353010001")]),
    person("maire-amiens", "officials", [("email", "m@amiens.test")], code=AMIENS),
    person("redaction", "media", [("email", "redaction@journal.test")]),
    person("agent", "staff", [("email", "agent@prefecture.test")]),
    person("joueur-1", "exercise", [("email", "j1@exercice.test"), ("sms", "+33639980101")]),
    person("joueur-2", "exercise", [("email", "j2@exercice.test")]),
    person("joueur-3", "exercise", [("phone", "+33353010101")]),
]


async def load_directory(
    db: Database, now: datetime, records: list[ContactRecord] | None = None
) -> None:
    async with db.transaction() as session:
        for record in records or DIRECTORY:
            await directory.create_contact(session, actor=SYSTEM, record=record, now=now)


async def created(
    db: Database,
    now: datetime,
    *,
    crisis_id: int,
    policy: ChannelPolicy = POLICY,
    **changes: object,
) -> Bulletin:
    """A draft written by the communicator from ``draft(**changes)``."""
    async with db.transaction() as session:
        return await bulletins.create(
            session,
            actor=COMMUNICATOR,
            crisis_id=crisis_id,
            draft=draft(**changes),
            policy=policy,
            now=now,
        )


async def submitted(
    db: Database,
    now: datetime,
    *,
    crisis_id: int,
    policy: ChannelPolicy = POLICY,
    **changes: object,
) -> int:
    """A draft submitted for validation by its author; its id."""
    bulletin = await created(db, now, crisis_id=crisis_id, policy=policy, **changes)
    assert bulletin.id is not None
    async with db.transaction() as session:
        await bulletins.submit(
            session, actor=COMMUNICATOR, bulletin_id=bulletin.id, policy=policy, now=now
        )
    return bulletin.id


async def approved(
    db: Database,
    now: datetime,
    *,
    crisis_id: int,
    policy: ChannelPolicy = POLICY,
    **changes: object,
) -> int:
    """A submitted bulletin approved by the validator; its id."""
    bulletin_id = await submitted(db, now, crisis_id=crisis_id, policy=policy, **changes)
    async with db.transaction() as session:
        await bulletins.approve(session, actor=VALIDATOR, bulletin_id=bulletin_id, now=now)
    return bulletin_id


async def published(db: Database, now: datetime, *, crisis_id: int, **changes: object) -> int:
    """An approved bulletin published by the communicator; its id."""
    bulletin_id = await approved(db, now, crisis_id=crisis_id, **changes)
    async with db.transaction() as session:
        await publication.publish(
            session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=now
        )
    return bulletin_id
