"""`tocsin journal keygen` and `tocsin journal verify --checkpoint`, through the real command
(its own process), on the test database (SQLite, or PostgreSQL when configured)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from crisis.app import checkpointing
from crisis.app.db import Database
from crisis.app.settings import Settings
from tests.crisis.journal_support import cut_tail, wipe, write_entries
from tests.support import FrozenClock


def tocsin(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_CHECKPOINT")}
    return subprocess.run(
        [sys.executable, "-m", "crisis", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment | (env or {}),
    )


@pytest.fixture
def key(tmp_path: Path) -> tuple[Path, str]:
    """A signing key made by the real command: its file and the public key it printed."""
    path = tmp_path / "signature.key"
    made = tocsin("journal", "keygen", str(path))
    assert made.returncode == 0, made.stderr
    return path, made.stdout.strip().splitlines()[-1]


async def _checkpointed(
    db: Database, clock: FrozenClock, database_url: str, key_file: Path, directory: Path
) -> Path:
    """Five entries of crisis 4, then the hourly round: the global chain's checkpoint file."""
    await write_entries(db, clock, 4, 5)
    settings = Settings(
        database_url=database_url, checkpoint_key_file=key_file, checkpoint_dir=directory
    )
    checkpointer = checkpointing.Checkpointer.from_settings(settings)
    assert checkpointer is not None
    await checkpointer.run(db, now=clock.now())
    return _global_checkpoint(directory)


def _global_checkpoint(directory: Path) -> Path:
    (written,) = directory.glob("global-*.json")
    return written


def test_keygen_writes_a_private_key_readable_by_its_owner_only_and_prints_the_public_key(
    key: tuple[Path, str], tmp_path: Path
) -> None:
    path, public = key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public not in path.read_text() and len(public) == 44  # base64 of 32 bytes
    again = tocsin("journal", "keygen", str(path))
    assert again.returncode == 2 and "existe déjà" in again.stderr


async def test_deleting_the_tail_and_moving_the_head_back_fails_verify_with_a_checkpoint(
    db: Database, clock: FrozenClock, database_url: str, key: tuple[Path, str], tmp_path: Path
) -> None:
    key_file, public = key
    written = await _checkpointed(db, clock, database_url, key_file, tmp_path / "points")
    verify = ("journal", "verify", "--db", database_url, "--checkpoint", str(written))
    intact = tocsin(*verify, "--public-key", public)
    assert intact.returncode == 0, intact.stderr
    assert "point de contrôle de 5 entrée(s) retrouvé" in intact.stdout
    await cut_tail(db, keep=3)
    assert tocsin("journal", "verify", "--db", database_url).returncode == 0  # blind without
    cut = tocsin(*verify, "--public-key", public)
    assert cut.returncode == 1
    assert "chaîne tronquée : 3 entrées, 5 au point de contrôle" in cut.stderr
    # the configured key is trusted too
    configured = tocsin(*verify, env={"TOCSIN_CHECKPOINT_KEY_FILE": str(key_file)})
    assert configured.returncode == 1 and "tronquée" in configured.stderr


async def test_emptying_both_journal_tables_fails_verify_with_a_checkpoint(
    db: Database, clock: FrozenClock, database_url: str, key: tuple[Path, str], tmp_path: Path
) -> None:
    key_file, public = key
    written = await _checkpointed(db, clock, database_url, key_file, tmp_path / "points")
    await wipe(db)
    wiped = tocsin(
        "journal", "verify", "--db", database_url, "--checkpoint", str(written),
        "--public-key", public,
    )  # fmt: skip
    assert wiped.returncode == 1 and "main courante vidée" in wiped.stderr


async def test_a_checkpoint_signed_by_another_key_is_refused_by_verify(
    db: Database, clock: FrozenClock, database_url: str, key: tuple[Path, str], tmp_path: Path
) -> None:
    _, public = key
    other = tmp_path / "autre.key"
    checkpointing.write_private_key(other)
    forged = await _checkpointed(db, clock, database_url, other, tmp_path / "points")
    refused = tocsin(
        "journal", "verify", "--db", database_url, "--checkpoint", str(forged),
        "--public-key", public,
    )  # fmt: skip
    assert refused.returncode == 2
    assert f"Point de contrôle refusé : {forged}" in refused.stderr
    assert "signé par une autre clé" in refused.stderr
    untrusted = tocsin("journal", "verify", "--db", database_url, "--checkpoint", str(forged))
    assert untrusted.returncode == 2 and "aucune clé de confiance" in untrusted.stderr
    wrong_chain = tocsin(
        "journal", "verify", "--db", database_url, "--crisis", "4", "--checkpoint", str(forged),
        env={"TOCSIN_CHECKPOINT_KEY_FILE": str(other)},
    )  # fmt: skip
    assert wrong_chain.returncode == 2 and "sans --crisis" in wrong_chain.stderr
