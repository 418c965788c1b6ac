"""Signed checkpoints, wired: the key and the directory from the settings, the files written
atomically, then remembered in the database (written file first: nothing lost on a crash)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import make_url

from crisis import checkpoints
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.checkpoints import Checkpoint, CheckpointError

log = logging.getLogger("tocsin.checkpoints")
DEMO_KEY_FILE = "tocsin-checkpoint.key"
DEMO_DIRECTORY = "tocsin-checkpoints"


def private_key(settings: Settings) -> Ed25519PrivateKey | None:
    """The configured signing key (the environment first, then the file), or None."""
    if settings.checkpoint_key is not None:
        return checkpoints.private_key_from_text(settings.checkpoint_key.get_secret_value())
    path = settings.checkpoint_key_file
    if path is None:
        return None
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointError(f"clé de signature illisible : {path} ({error})") from error
    try:
        return checkpoints.private_key_from_text(text)
    except CheckpointError as error:
        raise CheckpointError(f"{error} : {path}") from error


def trusted_key(settings: Settings, public_key: str | None) -> Ed25519PublicKey | None:
    """The key a verifier trusts: `--public-key` (a file or the key itself), else the
    configured key's public part; never the key a checkpoint file names."""
    if public_key is None:
        key = private_key(settings)
        return key.public_key() if key is not None else None
    path = Path(public_key)
    text = path.read_text("utf-8") if path.is_file() else public_key
    return checkpoints.public_key_from_text(text)


def write_private_key(path: Path) -> Ed25519PublicKey:
    """A new key in a new file, readable by its owner only (0600); an existing file is kept."""
    pem, public = checkpoints.new_private_key_pem()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return public


def _file_name(checkpoint: Checkpoint) -> str:
    chain = checkpoint.chain.replace(":", "-")
    return f"{chain}-{checkpoint.length:09d}-{checkpoint.last_hash[:16]}.json"


def _write_file(directory: Path, checkpoint: Checkpoint) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / _file_name(checkpoint)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        file.write(checkpoint.to_json())
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)
    return path


@dataclass(frozen=True)
class Checkpointer:
    key: Ed25519PrivateKey
    directory: Path
    interval: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Checkpointer | None:
        key = private_key(settings)
        if key is None or settings.checkpoint_dir is None:
            return None
        interval = timedelta(minutes=settings.checkpoint_interval_minutes)
        return cls(key=key, directory=settings.checkpoint_dir, interval=interval)

    async def run(self, db: Database, *, now: datetime) -> list[Path]:
        """Write every checkpoint due now (closed crises, the hourly round)."""
        async with db.read() as session:
            heads = await checkpoints.due(session, now=now, interval=self.interval)
        written = []
        for head in heads:
            checkpoint = checkpoints.sign(
                self.key, chain=head.chain, length=head.length, last_hash=head.last_hash, at=now
            )
            path = await asyncio.to_thread(_write_file, self.directory, checkpoint)
            async with db.transaction() as session:
                await checkpoints.record(session, checkpoint=checkpoint, file_name=path.name)
            written.append(path)
        if written:
            log.info("journal checkpoints written", extra={"count": len(written)})
        return written


Tick = Callable[[datetime], Awaitable[None]]


def checkpoint_tick(db: Database, checkpointer: Checkpointer) -> Tick:
    async def tick(now: datetime) -> None:
        try:
            await checkpointer.run(db, now=now)
        except OSError:  # the directory is gone or full: said loudly, tried again next tick
            log.exception("journal checkpoint could not be written to %s", checkpointer.directory)

    return tick


async def after_close(db: Database, settings: Settings, *, now: datetime) -> None:
    """Right after a closure commits: its checkpoint now; on failure, the next tick's."""
    try:
        checkpointer = Checkpointer.from_settings(settings)
        if checkpointer is not None:
            await checkpointer.run(db, now=now)
    except (CheckpointError, OSError):
        log.exception("checkpoint after closure failed; the next tick writes it")


def data_directory(database_url: str) -> Path:
    """Where a SQLite database lives (the demo's data), else the working directory."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return Path.cwd()


def demo_settings(settings: Settings, data_directory: Path) -> Settings:
    """Demo mode: a key generated into the demo's data directory, the checkpoints beside it."""
    if settings.checkpoint_key is not None or settings.checkpoint_key_file is not None:
        key_file = settings.checkpoint_key_file
    else:
        key_file = data_directory / DEMO_KEY_FILE
        if not key_file.exists():
            write_private_key(key_file)
    directory = settings.checkpoint_dir or data_directory / DEMO_DIRECTORY
    return settings.model_copy(
        update={"checkpoint_key_file": key_file, "checkpoint_dir": directory}
    )


def configured(settings: Settings) -> bool:
    has_key = settings.checkpoint_key is not None or settings.checkpoint_key_file is not None
    return has_key and settings.checkpoint_dir is not None


def startup_warning(settings: Settings) -> str | None:
    """The loud French warning of a service started without checkpoints, or None."""
    if configured(settings):
        return None
    return (
        "ATTENTION : aucun point de contrôle signé de la main courante ne sera écrit "
        "(TOCSIN_CHECKPOINT_KEY_FILE ou TOCSIN_CHECKPOINT_KEY, et TOCSIN_CHECKPOINT_DIR, "
        "ne sont pas tous deux réglés). Sans point de contrôle, une main courante tronquée "
        "ou vidée en base n'est pas détectable."
    )
