"""The CIP in the demo's first hour: ordered 22 minutes in, a head and two operators check
in, it opens (ES50 met), five FAQ answers drawn from the published bulletin are approved,
and the first calls are logged — one question the FAQ does not answer yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from crisis.cip import answering, calls, faq, ordering, requests, staffing
from crisis.cip.rules import CipRules
from crisis.cip.vocabulary import CallTopic, CipRole

NUMBER = "0 800 80 80 80"
ABBEVILLE, PONT_REMY = "80001", "80635"
FAQ = [
    (
        "Faut-il évacuer les quartiers bas d'Abbeville ?",
        "Oui : l'évacuation préventive des quartiers bas d'Abbeville est en cours ; "
        "suivez les consignes des pompiers et de la police municipale.",
    ),
    (
        "Peut-on circuler en voiture près de la Somme ?",
        "Non : ne prenez pas votre véhicule sur une route inondée, éloignez-vous des berges.",
    ),
    (
        "Que faire si l'eau entre chez moi ?",
        "Coupez le gaz et l'électricité si vous le pouvez, montez à l'étage, appelez le 112 "
        "en cas de danger.",
    ),
    (
        "Où trouver les informations à jour ?",
        "Sur www.somme.gouv.fr et sur ici Picardie (100.2 FM) ; prochain point à 18 h 00.",
    ),
    (
        "Quelles communes sont touchées ?",
        "Abbeville, Épagne-Épagnette, Pont-Remy et les communes riveraines de la Somme.",
    ),
]


# Each call: the minute it comes in, the seconds before it is answered, the commune, the topic,
# the question, and the FAQ answer given (its index in FAQ; None: no answer yet).
CALLS: list[tuple[int, int, str | None, CallTopic, str, int | None]] = [
    (41, 25, ABBEVILLE, CallTopic.EVACUATION, "Dois-je quitter ma maison rue du Pont ?", 0),
    (42, 70, ABBEVILLE, CallTopic.ROADS, "La route de Pont-Remy est-elle coupée ?", 1),
    (43, 40, PONT_REMY, CallTopic.SAFETY, "L'eau monte dans ma cave, que faire ?", 2),
    (45, 15, ABBEVILLE, CallTopic.SCHOOLS, "Les écoles seront-elles ouvertes demain ?", None),
    (46, 95, PONT_REMY, CallTopic.SCHOOLS, "Le collège ouvre-t-il demain ?", None),
    (47, 30, None, CallTopic.OTHER, "Où suivre l'évolution de la crue ?", 3),
]

WRITTEN = [
    (
        "michel.berger@exemple.test", "Michel Berger", "Hébergement avec un chien",
        "Bonjour, si nous devons évacuer, pouvons-nous venir avec notre chien ?",
    ),
    (
        "claire.dupuis@exemple.test", "Claire Dupuis", "Indemnisation des caves inondées",
        "Ma cave est inondée à Pont-Remy. Quelles démarches pour l'assurance ?",
    ),
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Cast:
    prefect: Actor
    communicator: Actor
    validator: Actor
    head: Actor
    operators: tuple[Actor, Actor]


async def play(
    session: AsyncSession,
    *,
    cast: Cast,
    crisis_id: int,
    bulletin_id: int,
    rules: CipRules,
    start: datetime,
) -> None:
    def at(minutes: float) -> datetime:
        return start + timedelta(minutes=minutes)

    await _opened(session, cast=cast, crisis_id=crisis_id, rules=rules, at=at)
    entries = await _approved_faq(
        session, cast=cast, crisis_id=crisis_id, bulletin_id=bulletin_id, at=at
    )
    await _logged_calls(
        session, cast=cast, crisis_id=crisis_id, entries=entries, rules=rules, at=at
    )
    await _written_requests(session, cast=cast, crisis_id=crisis_id, at=at)


async def _opened(
    session: AsyncSession,
    *,
    cast: Cast,
    crisis_id: int,
    rules: CipRules,
    at: Callable[[float], datetime],
) -> None:
    """Ordered at 22 minutes, the head then the operators checked in, open at 30."""
    await ordering.order(
        session, actor=cast.prefect, crisis_id=crisis_id, number=NUMBER,
        decided_by="Préfète de la Somme", expected_opening_at=at(35), rules=rules, now=at(22),
    )  # fmt: skip
    staff = [(cast.head, CipRole.HEAD), *((op, CipRole.OPERATOR) for op in cast.operators)]
    for minute, (person, role) in enumerate(staff, start=26):
        await staffing.check_in(
            session, actor=person, crisis_id=crisis_id, role=role, now=at(minute)
        )
    await ordering.declare_open(
        session, actor=cast.head, crisis_id=crisis_id, rules=rules, now=at(30)
    )


async def _approved_faq(
    session: AsyncSession,
    *,
    cast: Cast,
    crisis_id: int,
    bulletin_id: int,
    at: Callable[[float], datetime],
) -> list[int]:
    """The FAQ answers written from the bulletin and approved; their ids, in order."""
    entries = []
    for minute, (question, answer) in enumerate(FAQ):
        entry = await faq.write(
            session, actor=cast.communicator, crisis_id=crisis_id, question=question,
            answer=answer, source_bulletin_id=bulletin_id, communes=[], now=at(38 + minute / 5),
        )  # fmt: skip
        assert entry.id is not None
        await faq.approve(
            session, actor=cast.validator, crisis_id=crisis_id, entry_id=entry.id, now=at(40)
        )
        entries.append(entry.id)
    return entries


async def _logged_calls(
    session: AsyncSession,
    *,
    cast: Cast,
    crisis_id: int,
    entries: list[int],
    rules: CipRules,
    at: Callable[[float], datetime],
) -> None:
    """The calls of `CALLS`, taken by the two operators in turn."""
    for n, (minute, wait, commune, topic, asked, picked) in enumerate(CALLS):
        received = at(minute)
        operator = cast.operators[n % 2]
        follow_up = picked is None and n % 2 == 1
        call = calls.CallIn(
            received_at=received, answered_at=received + timedelta(seconds=wait),
            ended_at=received + timedelta(seconds=wait + 120), commune=commune, topic=topic,
            question=asked, faq_id=entries[picked] if picked is not None else None,
            answer=None if picked is not None else "Pas encore d'information : rappel promis.",
            follow_up=follow_up, callback_number="03 22 00 00 00" if follow_up else None,
        )  # fmt: skip
        await calls.log_call(
            session, actor=operator, crisis_id=crisis_id, call=call, rules=rules,
            now=received + timedelta(seconds=wait + 130),
        )  # fmt: skip


async def _written_requests(
    session: AsyncSession, *, cast: Cast, crisis_id: int, at: Callable[[float], datetime]
) -> None:
    """Two e-mails to the CIP: one answered by an operator (through the dispatcher, to the
    sandbox), one still waiting on the console."""
    rules = requests.RequestRules()
    for minute, (sender, name, subject, body) in enumerate(WRITTEN, start=44):
        incoming = requests.Incoming(sender=sender, sender_name=name, subject=subject, body=body)
        written = await requests.receive(
            session, crisis_id=crisis_id, incoming=incoming, rules=rules, now=at(minute)
        )
        if minute == 44:
            assert written.id is not None
            await answering.answer(
                session, actor=cast.operators[0], crisis_id=crisis_id, request_id=written.id,
                text="Le gymnase Paul-Éluard d'Abbeville accueille les personnes évacuées, "
                "avec leurs animaux en cage ou tenus en laisse.", now=at(48),
            )  # fmt: skip
