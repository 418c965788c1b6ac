"""Signed checkpoints written by the service: at each closure, hourly, and caught up."""

from __future__ import annotations

import io
import stat
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from pypdf import PdfReader
from sqlmodel import select

from crisis import checkpoints, journal, journal_verification
from crisis.actors import SYSTEM
from crisis.app import checkpointing
from crisis.app.background import build_background
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.cell import lifecycle
from crisis.checkpoints import CheckpointRecord
from tests.crisis.bulletin_support import ABBEVILLE
from tests.support import FrozenClock, TestUser, make_user


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "signature.key"
    checkpointing.write_private_key(path)
    return path


@pytest.fixture
def settings(database_url: str, tmp_path: Path, key_file: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SecretStr("test-secret-key-not-for-production"),
        scheduler_enabled=False,
        json_logs=False,
        checkpoint_key_file=key_file,
        checkpoint_dir=tmp_path / "points",
    )


def _files(settings: Settings) -> list[Path]:
    assert settings.checkpoint_dir is not None
    return sorted(settings.checkpoint_dir.glob("*.json"))


def _trusted(settings: Settings, path: Path) -> checkpoints.Checkpoint:
    """The file read back and its signature checked with the configured key."""
    read = checkpoints.parse(path.read_text("utf-8"))
    trusted = checkpointing.trusted_key(settings, None)
    assert trusted is not None
    checkpoints.check_signature(read, trusted)
    return read


async def _declared(client: httpx.AsyncClient, prefect: TestUser) -> int:
    body = {
        "title": "Crue de la Somme",
        "kind": "crue",
        "mode": "real",
        "communes": [ABBEVILLE],
        "activate_cell": False,
    }
    answer = await client.post("/api/v1/crises", json=body, headers=prefect.headers)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def test_a_crisis_close_writes_a_checkpoint(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    prefect = await make_user(db, clock, "prefete", "prefect")
    cid = await _declared(client, prefect)
    clock.advance(minutes=40)
    closed = await client.post(f"/api/v1/crises/{cid}/close", headers=prefect.headers)
    assert closed.status_code == 200
    crisis_files = [p for p in _files(settings) if p.name.startswith(f"crisis-{cid}-")]
    assert len(crisis_files) == 1
    written = _trusted(settings, crisis_files[0])
    async with db.read() as session:
        head = await journal.head_of(session, journal.crisis_chain(cid))
        report = await journal_verification.verify(session, crisis_id=cid, anchor=written.anchor)
        record = await checkpoints.latest(session, chain=journal.crisis_chain(cid))
    assert head is not None and (written.length, written.last_hash) == (
        head.length,
        head.last_hash,
    )
    assert written.at == clock.now() and report.ok
    assert record is not None and record.file_name == crisis_files[0].name
    assert record.key_fingerprint == written.key_fingerprint


async def test_the_hourly_tick_writes_a_checkpoint(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    checkpointer = checkpointing.Checkpointer.from_settings(settings)
    assert checkpointer is not None
    tick = checkpointing.checkpoint_tick(db, checkpointer)
    async with db.transaction() as session:
        await journal.append(session, actor=SYSTEM, action="test.step", now=clock.now())
    await tick(clock.now())
    assert [p.name.split("-0")[0] for p in _files(settings)] == ["global"]
    async with db.transaction() as session:
        await journal.append(session, actor=SYSTEM, action="test.step", now=clock.now())
    await tick(clock.advance(minutes=59))
    assert len(_files(settings)) == 1  # within the hour: nothing new
    await tick(clock.advance(minutes=1))
    files = _files(settings)
    assert len(files) == 2
    assert [_trusted(settings, p).length for p in files] == [1, 2]
    await tick(clock.advance(hours=2))
    assert len(_files(settings)) == 2  # the head did not move: nothing to sign again


async def test_a_crisis_closed_while_no_checkpoint_could_be_written_gets_one_at_the_next_tick(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings, tmp_path: Path
) -> None:
    prefect = await make_user(db, clock, "prefete", "prefect")
    checkpointer = checkpointing.Checkpointer.from_settings(settings)
    assert checkpointer is not None
    await checkpointer.run(db, now=clock.now())  # the hourly round is done: not due again
    cid = await _declared(client, prefect)
    blocked = tmp_path / "pas-un-dossier"
    blocked.write_text("un fichier, pas un dossier")
    settings.checkpoint_dir = blocked  # the close's checkpoint cannot be written
    clock.advance(minutes=5)
    closed = await client.post(f"/api/v1/crises/{cid}/close", headers=prefect.headers)
    assert closed.status_code == 200  # the closure stands; its checkpoint waits
    async with db.transaction() as session:  # and another closed while the service was down
        other = await _declared(client, prefect)
        await lifecycle.close(session, actor=SYSTEM, crisis_id=other, now=clock.now())
    settings.checkpoint_dir = tmp_path / "points"
    assert not [p for p in _files(settings) if p.name.startswith("crisis-")]
    background = build_background(db, clock, tick_seconds=1.0, settings=settings)
    await background._refresh_leadership()  # as at start: the lease first, then the catch-up
    for startup in background.startup:  # what the service runs when it starts again
        await startup(clock.advance(minutes=5))
    names = {p.name.split("-0")[0] for p in _files(settings)}
    assert {f"crisis-{cid}", f"crisis-{other}"} <= names
    assert "checkpoints" in {job.name for job in background.jobs}


async def test_the_summary_prints_the_latest_checkpoint_of_the_crisis_or_says_none_was_written(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    prefect = await make_user(db, clock, "prefete", "prefect")

    async def pdf_text(crisis_id: int) -> str:
        pdf = await client.get(f"/evenements/{crisis_id}/synthese.pdf", headers=prefect.headers)
        pages = PdfReader(io.BytesIO(pdf.content)).pages
        return " ".join(" ".join(p.extract_text() for p in pages).split())

    directory = settings.checkpoint_dir
    settings.checkpoint_dir = None  # first without checkpoints
    bare = await _declared(client, prefect)
    await client.post(f"/api/v1/crises/{bare}/close", headers=prefect.headers)
    assert "Aucun point de contrôle signé n'a été écrit pour cet événement" in (
        await pdf_text(bare)
    )
    page = await client.get(f"/evenements/{bare}/bilan.html", headers=prefect.headers)
    assert "Aucun point de contrôle signé" in page.text
    settings.checkpoint_dir = directory
    cid = await _declared(client, prefect)
    await client.post(f"/api/v1/crises/{cid}/close", headers=prefect.headers)
    async with db.read() as session:
        record = await checkpoints.latest(session, chain=journal.crisis_chain(cid))
    assert record is not None
    text = (await pdf_text(cid)).replace(" ", "")
    assert "Pointdecontrôlesignédelamaincourante" in text
    assert f"Entréescouvertes{record.length}" in text
    assert record.last_hash in text and record.key_fingerprint in text
    page = await client.get(f"/evenements/{cid}/bilan.html", headers=prefect.headers)
    assert record.key_fingerprint in page.text and record.file_name in page.text


async def test_readyz_says_whether_checkpoints_are_written(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    assert (await client.get("/readyz")).json()["checkpoints"] == "actifs"
    settings.checkpoint_dir = None
    assert (await client.get("/readyz")).json()["checkpoints"] == "désactivés"
    assert checkpointing.startup_warning(settings) is not None


def test_demo_mode_generates_a_key_readable_by_its_owner_only_beside_its_data(
    tmp_path: Path,
) -> None:
    bare = Settings(database_url=f"sqlite:///{tmp_path / 'tocsin.db'}", demo=True)
    demo = checkpointing.demo_settings(bare, checkpointing.data_directory(bare.database_url))
    assert demo.checkpoint_key_file == tmp_path / "tocsin-checkpoint.key"
    assert demo.checkpoint_dir == tmp_path / "tocsin-checkpoints"
    assert stat.S_IMODE(demo.checkpoint_key_file.stat().st_mode) == 0o600
    assert checkpointing.startup_warning(demo) is None
    again = checkpointing.demo_settings(bare, tmp_path)  # the same key at the next start
    assert again.checkpoint_key_file == demo.checkpoint_key_file


async def test_a_checkpoint_written_twice_for_one_head_is_recorded_once(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        await journal.append(session, actor=SYSTEM, action="test.step", now=clock.now())
    checkpointer = checkpointing.Checkpointer.from_settings(settings)
    assert checkpointer is not None
    await checkpointer.run(db, now=clock.now())
    await checkpointer.run(db, now=clock.now() + timedelta(hours=3))
    async with db.read() as session:
        records = (await session.exec(select(CheckpointRecord))).all()
    assert len(records) == 1
