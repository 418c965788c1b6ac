"""A synthetic directory of the Somme for demonstrations and tests: no real person in it.

Names are drawn from lists of common French first and last names with a seeded generator,
so the same directory comes out every time; addresses are in the sandbox domain, mobiles in
the numbers ARCEP reserves for fiction (06 39 98 xx xx), fixed lines in 03 53 01 xx xx.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import (
    AddressKind,
    AreaLevel,
    Contact,
    ContactAudience,
    ContactKind,
    Function,
)
from contacts.geography import Commune, Epci
from contacts.importer import Applier, ImportReport
from contacts.records import ChannelRecord, ContactRecord, slug
from contacts.roster import DutyRole, Shift


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DOMAIN = "sandbox.tocsin.test"
DEPARTEMENT = "80"
FIRST_NAMES = _words(
    "Marie Jean Pierre Michel Nathalie Isabelle Philippe Alain Sylvie Catherine Patrick Nicolas "
    "Christophe Sandrine Stéphane Valérie Frédéric Céline Laurent Véronique Éric David Julien "
    "Sophie Thierry Christine Pascal Olivier Martine Dominique Hélène Bruno Anne Gérard Claire "
    "Didier Aurélie Thomas Émilie Franck Camille Sébastien Élodie Cédric Virginie Jérôme Agnès "
    "Hervé Corinne Benoît Léa Guillaume Chantal Arnaud Françoise Denis Josiane Gilles Brigitte"
)
LAST_NAMES = _words(
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
    "Lefèbvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre "
    "Mercier Dupont Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc "
    "Guérin Muller Henry Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Dumont Lopez "
    "Fontaine Chevalier Robin Masson Sanchez Gérard Nguyen Boyer Denis Lemaire Duval Joly "
    "Gautier Roger Roche Roy Noël Meyer Lucas Meunier Jean Perez Marchand Dufour Blanchard "
    "Marie Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez Pierre Renard Arnaud "
    "Rolland Caron Aubert Giraud Leclerc Vidal Bourgeois Renaud Lemoine Picard Gaillard"
)
NEWSROOMS = (
    "La Gazette fictive de la Somme",
    "Radio Démo Baie",
    "Télé Démo Picardie",
    "L'Hebdo fictif du Santerre",
    "Somme Démo Info",
    "Le Vimeu fictif",
    "Radio Démo Vallée",
    "L'Écho fictif d'Amiens",
    "Démo FM Péronne",
    "Agence Démo Presse",
)
JOURNALISTS_PER_NEWSROOM = 2
NO_CHANNEL_RATE = 0.03


@dataclass(frozen=True, slots=True)
class DemoReport:
    contacts: int
    added: int
    updated: int
    unchanged: int
    shifts: int
    mayors_to_call: int


class _Numbers:
    def __init__(self) -> None:
        self.mobile = 0
        self.fixed = 0
        self.telegram = 0

    def next_mobile(self) -> str:
        self.mobile += 1
        return f"+3363998{self.mobile:04d}"

    def next_fixed(self) -> str:
        self.fixed += 1
        return f"+3335301{self.fixed:04d}"

    def next_telegram(self) -> str:
        self.telegram += 1
        return str(7_100_000_000 + self.telegram)


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES).upper()


def _personal(
    rng: random.Random, numbers: _Numbers, first: str, last: str, tag: str
) -> tuple[ChannelRecord, ...]:
    email = f"{slug(first)}.{slug(last)}.{tag}@{DOMAIN}"
    channels = [
        ChannelRecord(AddressKind.SMS, numbers.next_mobile(), verified=True, preference=0),
        ChannelRecord(AddressKind.EMAIL, email, verified=rng.random() < 0.8, preference=1),
    ]
    if rng.random() < 0.4:
        channels.append(
            ChannelRecord(AddressKind.TELEGRAM, numbers.next_telegram(), True, preference=2)
        )
    return tuple(channels)


def _record(
    key: str, audience: str, function: str, level: str, code: str, **extra: object
) -> ContactRecord:
    return ContactRecord(
        key=key,
        line=0,
        audience=audience,
        function=function,
        area_level=level,
        area_code=code,
        departement=DEPARTEMENT,
        active=True,
        kind=str(extra.pop("kind", ContactKind.PERSON)),
        **extra,  # type: ignore[arg-type]
    )


class _Maker:
    """The synthetic people, drawn from one seeded generator in a fixed order."""

    def __init__(self) -> None:
        self.rng = random.Random(80)
        self.numbers = _Numbers()

    def person(
        self,
        key: str,
        audience: str,
        function: str,
        area: tuple[str, str],
        tag: str,
        **extra: object,
    ) -> ContactRecord:
        first, last = _person(self.rng)
        channels = _personal(self.rng, self.numbers, first, last, tag)
        level, code = area
        return _record(
            key,
            audience,
            function,
            level,
            code,
            first_name=first,
            last_name=last,
            channels=channels,
            **extra,
        )

    def mayor(self, commune: Commune) -> ContactRecord:
        first, last = _person(self.rng)
        channels: tuple[ChannelRecord, ...]
        if self.rng.random() < NO_CHANNEL_RATE:
            phone = self.rng.random() < 0.5
            fixed = self.numbers.next_fixed() if phone else None
            channels = (ChannelRecord(AddressKind.PHONE, fixed, True),) if fixed else ()
        else:
            channels = _personal(self.rng, self.numbers, first, last, commune.code)
        return _record(
            f"demo:maire:{commune.code}",
            ContactAudience.OFFICIALS,
            Function.MAIRE,
            AreaLevel.COMMUNE,
            commune.code,
            first_name=first,
            last_name=last,
            channels=channels,
        )


def _municipal(make: _Maker, communes: list[Commune]) -> Iterator[ContactRecord]:
    for commune in communes:
        yield make.mayor(commune)
        adjoints = 2 if commune.population >= 10_000 else 1 if commune.population >= 2_000 else 0
        for n in range(1, adjoints + 1):
            area = (AreaLevel.COMMUNE, commune.code)
            key = f"demo:adjoint:{commune.code}:{n}"
            yield make.person(
                key, ContactAudience.OFFICIALS, Function.ADJOINT, area, f"{commune.code}-{n}"
            )


def _territorial(
    make: _Maker, communes: list[Commune], epcis: list[Epci]
) -> Iterator[ContactRecord]:
    officials = ContactAudience.OFFICIALS
    for epci in epcis:
        area = (AreaLevel.EPCI, epci.code)
        key = f"demo:president-epci:{epci.code}"
        yield make.person(
            key, officials, Function.PRESIDENT_EPCI, area, epci.code, organisation=epci.name
        )
    departement = (AreaLevel.DEPARTEMENT, DEPARTEMENT)
    for function, count in [
        (Function.DEPUTE, 5),
        (Function.SENATEUR, 3),
        (Function.PRESIDENT_DEPARTEMENT, 1),
    ]:
        for n in range(1, count + 1):
            yield make.person(
                f"demo:{function}:{n}", officials, function, departement, f"{function}{n}"
            )
    arrondissements = sorted({c.arrondissement for c in communes if c.arrondissement})
    for n in range(1, 47):
        area = (AreaLevel.ARRONDISSEMENT, arrondissements[n % len(arrondissements)])
        yield make.person(
            f"demo:cd:{n}", officials, Function.CONSEILLER_DEPARTEMENTAL, area, f"cd{n}"
        )


def _media(make: _Maker) -> Iterator[ContactRecord]:
    departement = (AreaLevel.DEPARTEMENT, DEPARTEMENT)
    for i, newsroom in enumerate(NEWSROOMS, start=1):
        shared = ChannelRecord(AddressKind.EMAIL, f"redaction@{slug(newsroom)}.{DOMAIN}", True)
        yield _record(
            f"demo:media:{i}",
            ContactAudience.MEDIA,
            Function.REDACTION,
            *departement,
            kind=ContactKind.ORGANISATION,
            last_name=newsroom,
            organisation=newsroom,
            channels=(shared,),
        )
        for n in range(1, JOURNALISTS_PER_NEWSROOM + 1):
            yield make.person(
                f"demo:media:{i}:{n}",
                ContactAudience.MEDIA,
                Function.JOURNALISTE,
                departement,
                f"media{i}-{n}",
                organisation=newsroom,
            )


def _prefecture(make: _Maker) -> Iterator[ContactRecord]:
    departement = (AreaLevel.DEPARTEMENT, DEPARTEMENT)
    for audience, function, prefix in (
        (ContactAudience.STAFF, Function.AGENT_PERMANENCE, "staff"),
        (ContactAudience.EXERCISE, Function.PARTICIPANT_EXERCICE, "exercice"),
    ):
        for n in range(1, 13):
            yield make.person(
                f"demo:{prefix}:{n}",
                audience,
                function,
                departement,
                f"{prefix}{n}",
                organisation="Préfecture de la Somme",
            )


def demo_records(communes: list[Commune], epcis: list[Epci]) -> Iterator[ContactRecord]:
    """The whole synthetic directory, always the same for the same geography."""
    make = _Maker()
    yield from _municipal(make, communes)
    yield from _territorial(make, communes, epcis)
    yield from _media(make)
    yield from _prefecture(make)


def demo_shifts(staff: list[tuple[int, str]], *, now: datetime) -> list[Shift]:
    """Weekly shifts from the start of yesterday for 35 days, level 1 and 2 for each role,
    with one visible gap: no validator 10 days from today between 02:00 and 08:00 UTC. The
    demo's scripted crisis began 50 minutes before the start: shortly after midnight, that was
    yesterday, and its roster must answer then too."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=1)
    shifts: list[Shift] = []
    roles = list(DutyRole)
    for week in range(5):
        begin, end = start + timedelta(days=7 * week), start + timedelta(days=7 * week + 7)
        for r, role in enumerate(roles):
            for level in (1, 2):
                cid, name = staff[(week * 6 + r * 2 + level) % len(staff)]
                spans = [(begin, end)]
                gap_start = today + timedelta(days=10, hours=2)
                if role == DutyRole.VALIDATOR and begin <= gap_start < end:
                    spans = [(begin, gap_start), (gap_start + timedelta(hours=6), end)]
                shifts += [
                    Shift(
                        role=role,
                        level=level,
                        contact_id=cid,
                        name=name,
                        starts_at=a,
                        ends_at=b,
                        source="demo",
                    )
                    for a, b in spans
                ]
    return shifts


async def load_demo_directory(session: AsyncSession, *, now: datetime) -> DemoReport:
    """Write (or bring back to its generated state) the demo directory and roster."""
    communes = list((await session.exec(select(Commune).order_by(Commune.code))).all())
    epcis = list((await session.exec(select(Epci).order_by(Epci.code))).all())
    report = ImportReport(format="demo", dry_run=False)
    applier = Applier(session, report=report, source="demo", now=now)
    to_call = 0
    for record in demo_records(communes, epcis):
        if record.function == Function.MAIRE and not any(
            c.kind != AddressKind.PHONE for c in record.channels
        ):
            to_call += 1
        await applier.add(record)
    await applier.flush()
    staff = (
        await session.exec(
            select(Contact.id, Contact.first_name, Contact.last_name)
            .where(Contact.audience == ContactAudience.STAFF, col(Contact.key).like("demo:%"))
            .order_by(col(Contact.key))
        )
    ).all()
    await session.exec(delete(Shift).where(col(Shift.source) == "demo"))
    shifts = demo_shifts([(cid, f"{first} {last}") for cid, first, last in staff if cid], now=now)
    session.add_all(shifts)
    await session.flush()
    return DemoReport(
        contacts=report.records,
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        shifts=len(shifts),
        mayors_to_call=to_call,
    )
