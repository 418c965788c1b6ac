"""`tocsin backup` and `tocsin restore` (issue 22): a copy taken while the service writes,
restored into a fresh database, verifies against the signed checkpoint and serves."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from tests.crisis.app.test_cli_journal import _checkpointed, tocsin
from tests.crisis.journal_support import write_entries
from tests.support import FrozenClock


async def _backup_while_writing(db: Database, clock: FrozenClock, url: str, file: Path) -> int:
    """The backup command runs while this process keeps appending to the journal."""
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crisis", "backup", str(file), "--db", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    writes = 0
    while command.returncode is None:
        await write_entries(db, clock, 4, 1)
        writes += 1
        try:
            await asyncio.wait_for(command.wait(), timeout=0.05)
        except TimeoutError:
            continue
    _, err = await command.communicate()
    assert command.returncode == 0, err.decode()
    return writes


async def test_a_backup_taken_while_writing_restores_verifies_against_its_checkpoint_and_serves(
    db: Database, clock: FrozenClock, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL is saved with pg_dump (see the refusal test)")
    key = tmp_path / "signature.key"
    assert tocsin("journal", "keygen", str(key)).returncode == 0
    checkpoint = await _checkpointed(db, clock, database_url, key, tmp_path / "points")
    saved = tmp_path / "sauvegarde.db"
    writes = await _backup_while_writing(db, clock, database_url, saved)
    assert writes >= 1 and saved.stat().st_mode & 0o077 == 0

    fresh = f"sqlite:///{tmp_path / 'restauree.db'}"
    restored = tocsin("restore", str(saved), "--db", fresh)
    assert restored.returncode == 0, restored.stderr
    env = {"TOCSIN_CHECKPOINT_KEY_FILE": str(key)}
    verified = tocsin("journal", "verify", "--db", fresh, "--checkpoint", str(checkpoint), env=env)
    assert verified.returncode == 0, verified.stderr
    assert "point de contrôle de 5 entrée(s) retrouvé" in verified.stdout

    copy = Database.from_url(fresh)
    settings = Settings(database_url=fresh, secret_key=SecretStr("k" * 40), scheduler_enabled=False)
    app = create_app(settings, clock=clock, database=copy)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tocsin.test"
    ) as client:
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/public/bulletins")).status_code == 200
    await copy.dispose()
    with sqlite3.connect(tmp_path / "restauree.db") as conn:
        (entries,) = conn.execute("SELECT count(*) FROM journal_entry").fetchone()
    assert entries >= 5


def test_restore_refuses_a_database_in_use_a_missing_or_corrupt_file_and_postgresql(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite"):
        refused = tocsin("backup", str(tmp_path / "b.db"), "--db", database_url)
        assert refused.returncode == 2 and "pg_dump -Fc" in refused.stderr
        refused = tocsin("restore", str(tmp_path / "b.db"), "--db", database_url)
        assert refused.returncode == 2 and "pg_restore" in refused.stderr
        return
    saved = tmp_path / "b.db"
    assert tocsin("backup", str(saved), "--db", database_url).returncode == 0
    again = tocsin("backup", str(saved), "--db", database_url)
    assert again.returncode == 2 and "existe déjà" in again.stderr
    missing = tocsin("restore", str(tmp_path / "absente.db"), "--db", database_url)
    assert missing.returncode == 2 and "sauvegarde introuvable" in missing.stderr
    corrupt = tmp_path / "abimee.db"
    corrupt.write_bytes(b"pas une base" * 100)
    broken = tocsin("restore", str(corrupt), "--db", f"sqlite:///{tmp_path / 'n.db'}")
    assert broken.returncode == 2 and "pas une base SQLite lisible" in broken.stderr
    used = tmp_path / "en-service.db"
    with sqlite3.connect(used) as conn:
        conn.execute("CREATE TABLE journal_entry (id INTEGER)")
        conn.execute("INSERT INTO journal_entry VALUES (1)")
    kept = tocsin("restore", str(saved), "--db", f"sqlite:///{used}")
    assert kept.returncode == 2 and "contient déjà des données" in kept.stderr
    assert "--force" in kept.stderr
    forced = tocsin("restore", str(saved), "--db", f"sqlite:///{used}", "--force")
    assert forced.returncode == 0, forced.stderr
