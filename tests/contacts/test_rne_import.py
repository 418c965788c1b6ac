from __future__ import annotations

from sqlmodel import func, select

from contacts.directory import Contact
from contacts.importer import ImportFormat, ImportReport, import_contacts
from crisis.app.db import Database
from tests.contacts.files import RNE_HEADER, SOMME_MAYORS, rne_file, rne_row, stream
from tests.support import FrozenClock

RNE = ImportFormat.RNE_MAIRES


async def _import(db: Database, clock: FrozenClock, data: bytes, **kw: bool) -> ImportReport:
    async with db.transaction() as session:
        return await import_contacts(session, stream=stream(data), fmt=RNE, now=clock.now(), **kw)


async def _contacts(db: Database) -> list[Contact]:
    async with db.read() as session:
        return list((await session.exec(select(Contact).order_by(Contact.key))).all())


async def test_an_rne_file_with_bom_and_semicolons_adds_every_mayor(
    db: Database, clock: FrozenClock
) -> None:
    report = await _import(db, clock, rne_file(SOMME_MAYORS))
    assert report.ok and report.written
    assert (report.added, report.updated, report.deactivated) == (3, 0, 0)
    contacts = await _contacts(db)
    amiens = next(c for c in contacts if c.area_code == "80021")
    assert amiens.key == "rne:80021:martin:emile:1970-12-12"
    assert (amiens.first_name, amiens.function, amiens.audience) == ("Émile", "maire", "officials")
    assert amiens.function_since is not None and amiens.function_since.isoformat() == "2020-07-04"
    assert amiens.departement == "80" and amiens.active


async def test_a_file_without_bom_is_read_the_same(db: Database, clock: FrozenClock) -> None:
    report = await _import(db, clock, rne_file(SOMME_MAYORS, bom=False))
    assert report.ok and report.added == 3


async def test_reimporting_the_same_file_changes_nothing(db: Database, clock: FrozenClock) -> None:
    await _import(db, clock, rne_file(SOMME_MAYORS))
    before = [(c.id, c.updated_at) for c in await _contacts(db)]
    clock.advance(days=1)
    report = await _import(db, clock, rne_file(SOMME_MAYORS))
    assert (report.added, report.updated, report.unchanged, report.deactivated) == (0, 0, 3, 0)
    assert [(c.id, c.updated_at) for c in await _contacts(db)] == before


async def test_a_newer_file_updates_and_deactivates_mayors_who_left_office(
    db: Database, clock: FrozenClock
) -> None:
    await _import(db, clock, rne_file(SOMME_MAYORS))
    newer = [
        rne_row("80001", "DUPONT", "Jeanne"),
        [*rne_row("80021", "MARTIN", "Émile", "12/12/1970")[:-1], "01/01/2026"],
        rne_row("80620", "NOUVEAU", "Paul", "05/05/1980"),
    ]
    report = await _import(db, clock, rne_file(newer))
    assert (report.added, report.updated, report.unchanged, report.deactivated) == (1, 1, 1, 1)
    assert report.deactivated_keys == ["rne:80620:lefevre:anne:1955-04-03"]
    by_key = {c.key: c for c in await _contacts(db)}
    assert not by_key["rne:80620:lefevre:anne:1955-04-03"].active
    assert by_key["rne:80620:nouveau:paul:1980-05-05"].active


async def test_a_broken_file_is_refused_whole_and_names_every_bad_line(
    db: Database, clock: FrozenClock
) -> None:
    rows = [
        rne_row("80001", "DUPONT", "Jeanne"),
        rne_row("99999", "INCONNU", "Jean"),
        rne_row("80021", "MARTIN", "Émile", "31/02/1970"),
        rne_row("80001", "DUPONT", "Jeanne"),
        rne_row("80620", "", "Anne"),
        rne_row("80002", "AUTRE", "Luc"),
    ]
    report = await _import(db, clock, rne_file(rows))
    assert not report.ok and not report.written
    assert [e.line for e in report.errors] == [3, 4, 5, 6]
    messages = {e.line: e.message for e in report.errors}
    assert "commune inconnue « 99999 »" in messages[3]
    assert "date invalide « 31/02/1970 »" in messages[4]
    assert "déjà ligne 2" in messages[5]
    assert "nom ou prénom absent" in messages[6]
    assert await _contacts(db) == []


async def test_a_file_not_in_utf8_is_refused_with_its_line(
    db: Database, clock: FrozenClock
) -> None:
    whole = rne_file(SOMME_MAYORS, bom=False).decode("utf-8").encode("cp1252")
    report = await _import(db, clock, whole)
    assert not report.ok and report.errors[0].line == 1 and "UTF-8" in report.errors[0].message
    header, _, body = rne_file(SOMME_MAYORS).partition(b"\r\n")
    mixed = header + b"\r\n" + body.decode("utf-8").encode("cp1252")
    report = await _import(db, clock, mixed)
    assert [e.line for e in report.errors] == [3, 4]
    assert all("UTF-8" in e.message for e in report.errors)
    assert await _contacts(db) == []


async def test_missing_columns_are_named(db: Database, clock: FrozenClock) -> None:
    header = [h for h in RNE_HEADER if h != "Date de naissance"]
    data = rne_file([r[:7] + r[8:] for r in SOMME_MAYORS], header=header)
    report = await _import(db, clock, data)
    assert [(e.line, e.message) for e in report.errors] == [
        (1, "colonnes obligatoires absentes : « Date de naissance »")
    ]


async def test_header_variants_and_three_digit_commune_codes_are_accepted(
    db: Database, clock: FrozenClock
) -> None:
    header = ["Code du département (Maire)", "Code Insee de la commune", "Nom de l'élu",
              "Prénom de l'élu", "Date de naissance"]  # fmt: skip
    data = rne_file([["80", "001", "DUPONT", "Jeanne", "01/02/1960"]], header=header)
    report = await _import(db, clock, data)
    assert report.ok, report.errors
    assert report.added_keys == ["rne:80001:dupont:jeanne:1960-02-01"]


async def test_a_dry_run_reports_without_writing(db: Database, clock: FrozenClock) -> None:
    report = await _import(db, clock, rne_file(SOMME_MAYORS), dry_run=True)
    assert report.ok and not report.written and report.added == 3
    async with db.read() as session:
        assert (await session.exec(select(func.count()).select_from(Contact))).one() == 0
