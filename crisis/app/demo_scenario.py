"""The demo's first hour, played through the services as the cabinet would.

A flood of the Somme around Abbeville: declared 50 minutes ago, the cell ordered and paged,
two on-call members answer, the cell is operational, the COD is recorded with its SYNERGI
reference, and one bulletin reaches the mayors of the arrondissement, the media and the
public channels. The prefect orders the CIP: a head and two operators check in, it opens,
five FAQ answers are approved and the first calls logged (`crisis.cip.demo`). The dispatcher
running beside it sends the deliveries through the sandbox, so ES47, ES48 and ES50 show as
met with their times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import select

from contacts import geography
from crisis.actors import Actor
from crisis.app import actions
from crisis.app.actions import Caller
from crisis.app.db import Database
from crisis.app.policies import cip_rules
from crisis.app.settings import Settings
from crisis.bulletin import confirmations
from crisis.bulletin.workflow import Draft
from crisis.cell import acknowledgements, paging
from crisis.cell.crises import Crisis
from crisis.cip import demo as cip_demo
from crisis.dispatch.outbox import Delivery, DeliveryStatus
from crisis.users import User
from crisis.vocabulary import CrisisMode

ABBEVILLE_ARRONDISSEMENT = "801"
TITLE = "Crue de la Somme dans l'Abbevillois (démonstration)"
BODY = "\n".join(
    [
        "Que se passe-t-il ? La Somme est en crue entre Pont-Remy et Abbeville ; "
        "des quartiers bas sont inondés.",
        "Où ? Abbeville, Épagne-Épagnette, Pont-Remy et les communes riveraines "
        "de l'arrondissement d'Abbeville.",
        "Consignes : éloignez-vous des berges, ne prenez pas votre véhicule sur une route "
        "inondée, montez à l'étage si l'eau entre chez vous.",
        "Pour en savoir plus : www.somme.gouv.fr et ici Picardie (100.2 FM).",
        "Prochain point : à 18 h 00 sur le site de la préfecture.",
    ]
)

ENGLISH = {
    "title": "Somme river flood: precautionary evacuation of low-lying Abbeville",
    "body": "\n".join(
        [
            "What is happening? The Somme is in flood between Pont-Remy and Abbeville; "
            "low-lying districts are under water.",
            "Where? Abbeville, Épagne-Épagnette, Pont-Remy and the riverside towns "
            "of the Abbeville district.",
            "Instructions: keep away from the riverbanks, do not drive on a flooded road, "
            "go upstairs if water enters your home.",
            "More information: www.somme.gouv.fr and ici Picardie (100.2 FM).",
            "Next update: 6 pm on the prefecture's website.",
        ]
    ),
}
"""The Baie de Somme's visitors read the public bulletin in English (`?lang=en`)."""


async def _actor(db: Database, login: str) -> Actor:
    async with db.read() as session:
        user = (await session.exec(select(User).where(User.login == login))).one()
    return user.actor()


async def play_once(db: Database, settings: Settings, *, now: datetime) -> int:
    """The scenario's crisis: played the first time the demo starts, kept afterwards."""
    async with db.read() as session:
        existing = (await session.exec(select(Crisis.id).where(Crisis.title == TITLE))).first()
    return existing if existing is not None else await play(db, settings, now=now)


async def play(db: Database, settings: Settings, *, now: datetime) -> int:
    """Play the scenario; returns the crisis id."""
    prefect, communicator, validator = [
        await _actor(db, login) for login in ("prefet", "communicant", "valideur")
    ]
    start = now - timedelta(minutes=50)

    def at(actor: Actor, minutes: int) -> Caller:
        return Caller(actor=actor, settings=settings, now=start + timedelta(minutes=minutes))

    crisis_id = await _declare(db, at(prefect, 0))
    await _cell_and_cod(db, crisis_id, prefect=prefect, at=at, communicator=communicator)
    bulletin_id = await _bulletin(db, crisis_id, at(communicator, 32), at(validator, 36))
    await _call_the_unreachable(db, bulletin_id=bulletin_id, now=start + timedelta(minutes=41))
    cast = cip_demo.Cast(
        prefect=prefect,
        communicator=communicator,
        validator=validator,
        head=await _actor(db, "cheffe-cip"),
        operators=(await _actor(db, "operateur"), await _actor(db, "operatrice")),
    )
    async with db.transaction() as session:
        await cip_demo.play(
            session, cast=cast, crisis_id=crisis_id, bulletin_id=bulletin_id,
            rules=cip_rules(settings), start=start,
        )  # fmt: skip
    return crisis_id


async def _declare(db: Database, prefect: Caller) -> int:
    """The flood declared over the arrondissement, the cell ordered (the roster is paged)."""
    async with db.transaction() as session:
        communes = await geography.communes_of_arrondissement(
            session, code=ABBEVILLE_ARRONDISSEMENT
        )
        crisis = await actions.declare(
            session, prefect, title=TITLE, kind="crue", mode=CrisisMode.REAL,
            communes=communes, activate_cell=True,
        )  # fmt: skip
    assert crisis.id is not None
    return crisis.id


async def _cell_and_cod(
    db: Database,
    crisis_id: int,
    *,
    prefect: Actor,
    communicator: Actor,
    at: Callable[[Actor, int], Caller],
) -> None:
    """One on-call member per role answers, the cell is operational, the COD recorded."""
    async with db.transaction() as session:
        pages = await paging.pages_of(session, crisis_id=crisis_id)
        answered: set[str] = set()
        for minute, page in enumerate(p for p in pages if p.contact_id is not None):
            if page.duty_role in answered:
                continue
            answered.add(page.duty_role)
            await acknowledgements.acknowledge(
                session, actor=prefect, crisis_id=crisis_id, duty_role=page.duty_role,
                contact_id=page.contact_id, now=at(prefect, 6 + minute).now,
            )  # fmt: skip
        await actions.cell(session, at(communicator, 15), crisis_id, operational=True)
        await actions.record_cod(
            session, at(prefect, 20), crisis_id, activated_at=at(prefect, 16).now,
            synergi_ref="SYN-80-2026-0412", decided_by="Préfète de la Somme",
        )  # fmt: skip


async def _bulletin(db: Database, crisis_id: int, communicator: Caller, validator: Caller) -> int:
    """Written, approved by a second person, published a minute after the approval."""
    draft = Draft(
        title="Crue de la Somme : évacuation préventive des quartiers bas d'Abbeville",
        body=BODY,
        audiences=["officials", "media", "public"],
        translations={"en": ENGLISH},
    )
    async with db.transaction() as session:
        bulletin = await actions.write(session, communicator, draft, crisis_id=crisis_id)
        assert bulletin.id is not None
        await actions.submit(session, communicator, bulletin.id)
        await actions.review(session, validator, bulletin.id)
        publisher = replace(communicator, now=validator.now + timedelta(minutes=1))
        await actions.publish(session, publisher, bulletin.id)
    return bulletin.id


async def _call_the_unreachable(db: Database, *, bulletin_id: int, now: datetime) -> None:
    """The operator phones the mayors no channel can reach, and logs each call."""
    operator = await _actor(db, "operateur")
    async with db.transaction() as session:
        query = select(Delivery.id).where(
            Delivery.bulletin_id == bulletin_id, Delivery.status == DeliveryStatus.TO_CALL
        )
        for delivery_id in (await session.exec(query)).all():
            assert delivery_id is not None
            await confirmations.confirm_by_phone(
                session, actor=operator, delivery_id=delivery_id,
                note="Joint sur son portable, message lu.", now=now,
            )  # fmt: skip
