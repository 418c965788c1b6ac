"""The demo's first hour, played through the services as the cabinet would.

A flood of the Somme around Abbeville: declared 50 minutes ago, the cell ordered and paged,
two on-call members answer, the cell is operational, the COD is recorded with its SYNERGI
reference, and one bulletin reaches the mayors of the arrondissement, the media and the
public channels. The dispatcher running beside it sends the deliveries through the sandbox,
so ES47 and ES48 show as met with their times.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from contacts import geography
from crisis.accounts import User
from crisis.actors import Actor
from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.app.policies import channel_policy, lifecycle_rules
from crisis.app.settings import Settings
from crisis.bulletin import confirmations, publication
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.workflow import Draft
from crisis.cell import crises, lifecycle, paging
from crisis.cell.crises import Crisis
from crisis.dispatch.outbox import Delivery, DeliveryStatus
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
    rules = lifecycle_rules(settings)
    policy = channel_policy(settings)
    start = now - timedelta(minutes=50)
    async with db.transaction() as session:
        communes = await geography.communes_of_arrondissement(
            session, code=ABBEVILLE_ARRONDISSEMENT
        )
        crisis = await crises.declare(
            session, actor=prefect, title=TITLE, kind="crue", mode=CrisisMode.REAL,
            communes=communes, now=start,
            playbook=crises.playbook_for("crue", playbook_library()),
        )  # fmt: skip
        assert crisis.id is not None
        crisis_id = crisis.id
        await lifecycle.order_cell(
            session, actor=prefect, crisis_id=crisis_id, rules=rules, now=start
        )
    async with db.transaction() as session:
        pages = await paging.pages_of(session, crisis_id=crisis_id)
        answered: set[str] = set()
        for minute, page in enumerate(p for p in pages if p.contact_id is not None):
            if page.duty_role in answered:
                continue
            answered.add(page.duty_role)
            await lifecycle.acknowledge(
                session, actor=prefect, crisis_id=crisis_id, duty_role=page.duty_role,
                contact_id=page.contact_id, now=start + timedelta(minutes=6 + minute),
            )  # fmt: skip
        await lifecycle.declare_operational(
            session, actor=communicator, crisis_id=crisis_id, rules=rules,
            now=start + timedelta(minutes=15),
        )  # fmt: skip
        await lifecycle.record_cod(
            session, actor=prefect, crisis_id=crisis_id,
            activated_at=start + timedelta(minutes=16), synergi_ref="SYN-80-2026-0412",
            decided_by="Préfète de la Somme", rules=rules, now=start + timedelta(minutes=20),
        )  # fmt: skip
    written = start + timedelta(minutes=32)
    async with db.transaction() as session:
        draft = Draft(
            title="Crue de la Somme : évacuation préventive des quartiers bas d'Abbeville",
            body=BODY,
            audiences=["officials", "media", "public"],
        )
        bulletin = await bulletins.create(
            session, actor=communicator, crisis_id=crisis_id, draft=draft, policy=policy,
            now=written,
        )  # fmt: skip
        assert bulletin.id is not None
        await bulletins.submit(
            session, actor=communicator, bulletin_id=bulletin.id, policy=policy, now=written
        )
        await bulletins.approve(
            session, actor=validator, bulletin_id=bulletin.id,
            now=written + timedelta(minutes=4),
        )  # fmt: skip
        await publication.publish(
            session, actor=communicator, bulletin_id=bulletin.id, policy=policy,
            now=written + timedelta(minutes=5),
        )  # fmt: skip
    await _call_the_unreachable(db, bulletin_id=bulletin.id, now=written + timedelta(minutes=9))
    return crisis_id


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
