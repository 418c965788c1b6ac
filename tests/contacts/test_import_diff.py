"""Re-imports change exactly what the file changes, on both databases (PostgreSQL stages the
file in temporary tables and diffs it in SQL: those must not outlive the import)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlmodel import select

from contacts import applier, import_pg
from contacts.directory import Contact, ContactChannel
from contacts.importer import ImportFormat, ImportReport, import_contacts
from crisis import journal
from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.directory import import_directory
from tests.conftest import ON_POSTGRESQL
from tests.contacts.files import stream
from tests.support import FrozenClock

TOCSIN = ImportFormat.TOCSIN
HEADER = "cle;public;fonction;nom;zone;code_zone;canal;adresse;verifie"
LINES = {
    "a": "t:a;media;journaliste;Durand;departement;80;email;a@sandbox.tocsin.test;non",
    "b": "t:b;media;journaliste;Petit;departement;80;email;b@sandbox.tocsin.test;non",
    "c": "t:c;media;journaliste;Roux;departement;80;email;c@sandbox.tocsin.test;non",
    "d": "t:d;media;journaliste;Blanc;departement;80;sms;+33639980004;non",
    "e": "t:e;media;journaliste;Noir;departement;80;;;",
}
postgres_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="staging tables: PostgreSQL only")


def _csv(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode("utf-8")


async def _import(
    db: Database, clock: FrozenClock, data: bytes, *, dry_run: bool = False
) -> ImportReport:
    async with db.transaction() as session:
        return await import_contacts(
            session, stream=stream(data), fmt=TOCSIN, now=clock.now(), dry_run=dry_run
        )


@dataclass(frozen=True)
class Stored:
    id: int | None
    last_name: str
    updated_at: datetime
    channels: list[tuple[int | None, str, str, bool]]


async def _state(db: Database) -> dict[str, Stored]:
    """Each contact's id, name, last update and channels (id, kind, address, verified)."""
    async with db.read() as session:
        contacts = (await session.exec(select(Contact))).all()
        channels = (await session.exec(select(ContactChannel))).all()
    return {
        c.key: Stored(
            c.id, c.last_name, c.updated_at,
            sorted((ch.id, ch.kind, ch.address, ch.verified) for ch in channels
                   if ch.contact_id == c.id),
        )
        for c in contacts
    }  # fmt: skip


async def _staging_tables(
    db: Database, clock: FrozenClock, data: bytes, *, dry_run: bool = False
) -> tuple[ImportReport, list[str]]:
    """An import's report, and the temporary tables its session has afterwards."""
    async with db.transaction() as session:
        report = await import_contacts(
            session, stream=stream(data), fmt=TOCSIN, now=clock.now(), dry_run=dry_run
        )
        conn = await session.connection()
        tables = await conn.execute(
            sa.text("SELECT relname FROM pg_class WHERE relpersistence = 't'")
        )
        jit = (await conn.execute(sa.text("SELECT current_setting('jit')"))).scalar_one()
    assert jit == "on", "the import leaves the connection's settings as it found them"
    return report, [name for (name,) in tables]


async def test_a_changed_file_updates_exactly_what_changed_and_journals_it(
    db: Database, clock: FrozenClock
) -> None:
    await _import(db, clock, _csv(*LINES.values()))
    before = await _state(db)
    clock.advance(days=1)
    changed = _csv(
        LINES["a"],
        LINES["b"].replace("Petit", "Petitjean"),
        LINES["c"],
        "t:c;media;journaliste;Roux;departement;80;sms;+33639980003;oui",
        LINES["d"].replace(";non", ";oui"),
        LINES["e"],
        "t:f;media;redaction;Le Courrier;departement;80;email;f@sandbox.tocsin.test;non",
    )
    async with db.transaction() as session:
        report = await import_directory(
            session, actor=SYSTEM, stream=stream(changed), fmt=TOCSIN, now=clock.now(),
            filename="annuaire.csv",
        )  # fmt: skip
    assert report.ok and report.written, report.errors
    assert (report.added, report.updated, report.unchanged) == (1, 3, 2)
    assert (report.channels_added, report.channels_updated) == (2, 1)
    assert report.added_keys == ["t:f"]
    assert report.updated_keys == ["t:b", "t:c", "t:d"]
    after = await _state(db)
    assert {key for key in before if after[key] != before[key]} == {"t:b", "t:c", "t:d"}
    assert (after["t:b"].last_name, after["t:b"].updated_at) == ("Petitjean", clock.now())
    assert after["t:c"].updated_at == after["t:d"].updated_at == before["t:c"].updated_at
    assert [ch[1:] for ch in after["t:c"].channels] == [
        ("email", "c@sandbox.tocsin.test", False),
        ("sms", "+33639980003", True),
    ]
    assert [ch[3] for ch in after["t:d"].channels] == [True]
    async with db.read() as session:
        entry = (await journal.recent(session, limit=1))[0]
    payload = json.loads(entry.payload)
    assert entry.action == "contacts.imported" and payload["file"] == "annuaire.csv"
    assert {k: payload[k] for k in ("added", "updated", "unchanged", "updated_keys")} == {
        "added": 1, "updated": 3, "unchanged": 2, "updated_keys": ["t:b", "t:c", "t:d"],
    }  # fmt: skip
    again = await _import(db, clock, changed)
    assert (again.added, again.updated, again.unchanged, again.channels_added) == (0, 0, 6, 0)


async def test_channels_for_unknown_keys_refuse_the_file_and_count_nothing_for_them(
    db: Database, clock: FrozenClock
) -> None:
    await _import(db, clock, _csv(LINES["a"]))
    data = (
        b"cle;canal;adresse\n"
        b"t:a;sms;+33639980001\n"
        b"t:zz;sms;+33639980002\n"
        b"t:yy;email;yy@sandbox.tocsin.test\n"
    )
    report = await _import(db, clock, data)
    assert not report.ok and not report.written
    assert [(e.line, e.message) for e in report.errors] == [
        (3, "aucun contact de clé « t:zz » (nom, public, fonction, zone et code_zone requis)"),
        (4, "aucun contact de clé « t:yy » (nom, public, fonction, zone et code_zone requis)"),
    ]
    assert (report.updated, report.channels_added) == (1, 1)
    assert [ch[1] for ch in (await _state(db))["t:a"].channels] == ["email"]


@postgres_only
async def test_no_staging_table_outlives_an_import_refused_dry_or_written(
    db: Database, clock: FrozenClock
) -> None:
    refused, tables = await _staging_tables(
        db, clock, _csv(LINES["a"], "t:b;presse;x;Y;commune;1;;;")
    )
    assert not refused.ok and tables == []
    dry, tables = await _staging_tables(db, clock, _csv(LINES["a"]), dry_run=True)
    assert dry.ok and dry.added == 1 and tables == []
    assert await _state(db) == {}
    written, tables = await _staging_tables(db, clock, _csv(LINES["a"]))
    assert written.written and tables == []
    assert list(await _state(db)) == ["t:a"]


@postgres_only
async def test_two_imports_in_one_transaction_each_stage_their_own_file(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        first = await import_contacts(
            session, stream=stream(_csv(LINES["a"])), fmt=TOCSIN, now=clock.now()
        )
        second = await import_contacts(
            session, stream=stream(_csv(LINES["a"], LINES["b"])), fmt=TOCSIN, now=clock.now()
        )
    assert (first.added, second.added, second.unchanged) == (1, 1, 1)


def _person(n: int, name: str = "Nom", verified: str = "non") -> str:
    return (
        f"t:{n:02};media;journaliste;{name}{n};departement;80;"
        f"email;p{n}@sandbox.tocsin.test;{verified}"
    )


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 2 records, chunks of 3 on PostgreSQL: a file of ten spans several."""
    monkeypatch.setattr(applier, "BATCH", 2)
    monkeypatch.setattr(import_pg, "CHUNK", 3)


@pytest.mark.usefixtures("small_chunks")
async def test_a_file_of_many_chunks_changes_exactly_what_it_changes(
    db: Database, clock: FrozenClock
) -> None:
    first = await _import(db, clock, _csv(*map(_person, range(1, 10))))
    assert (first.added, first.channels_added) == (9, 9)
    assert first.added_keys == [f"t:{n:02}" for n in range(1, 10)]
    before = await _state(db)
    clock.advance(hours=1)
    lines = [_person(n) for n in range(1, 11)]
    lines[1], lines[6] = _person(2, "Autre"), _person(7, "Autre")
    lines[4] = _person(5, verified="oui")
    report = await _import(db, clock, _csv(*lines))
    assert (report.added, report.updated, report.unchanged) == (1, 3, 6)
    assert (report.channels_added, report.channels_updated) == (1, 1)
    assert (report.added_keys, report.updated_keys) == (["t:10"], ["t:02", "t:05", "t:07"])
    after = await _state(db)
    assert {k for k in before if after[k] != before[k]} == {"t:02", "t:05", "t:07"}
    stamped = sorted(k for k in after if after[k].updated_at == clock.now())
    assert stamped == ["t:02", "t:07", "t:10"]


@pytest.mark.usefixtures("small_chunks")
async def test_a_bad_line_in_the_last_chunk_undoes_the_chunks_already_written(
    db: Database, clock: FrozenClock
) -> None:
    lines = [*map(_person, range(1, 10)), "t:10;presse;journaliste;X;departement;80;;;"]
    report = await _import(db, clock, _csv(*lines))
    assert not report.written and [e.line for e in report.errors] == [11]
    assert (report.records, report.added, report.channels_added) == (9, 9, 9)
    assert await _state(db) == {}


@pytest.mark.usefixtures("small_chunks")
async def test_a_file_that_fails_to_read_midway_leaves_the_directory_as_it_was(
    db: Database, clock: FrozenClock
) -> None:
    def broken() -> Iterator[bytes]:
        yield from _csv(*map(_person, range(1, 10))).splitlines(keepends=True)
        raise OSError("connexion au partage perdue")

    with pytest.raises(OSError, match="partage"):
        async with db.transaction() as session:
            await import_contacts(session, stream=broken(), fmt=TOCSIN, now=clock.now())
    assert await _state(db) == {}
    assert (await _import(db, clock, _csv(_person(1)))).added == 1
