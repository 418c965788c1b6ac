"""Secrets (issue 22, item 7): from the environment or from files the service alone may read,
and never shown again — not in a log line, a journal payload, an outbox row or a page."""

from __future__ import annotations

import io
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlmodel import SQLModel

from channels import sandbox as fakes
from channels.sandbox import Sandbox
from crisis.app import checkpointing, logs
from crisis.app.db import Database
from crisis.app.dispatch import dispatcher_from_config
from crisis.app.factory import create_app
from crisis.app.secret_files import configured_secrets
from crisis.app.settings import Settings
from crisis.app.ticks import clock_tick
from crisis.checkpoints import new_private_key_pem
from tests.crisis.app.test_cli_journal import tocsin
from tests.crisis.app.test_demo_scenario import play_demo
from tests.crisis.app.test_personal_data import NO_PERSON_ROUTES, PERSON_ROUTES, World, _path
from tests.support import FrozenClock, make_user

SESSION_KEY = "known-session-key-5f1e0c2b9d7a"
SMTP_PASSWORD = "known-smtp-password-8c41d2"
SANDBOX_SECRETS = (
    fakes.TELEGRAM_TOKEN,
    fakes.X_CONSUMER_KEY,
    "sandbox-x-consumer-secret-0001",
    "sandbox-x-access-token-0001",
    "sandbox-x-access-secret-0001",
    fakes.MASTODON_TOKEN,
    fakes.MATRIX_TOKEN,
    fakes.SMS_API_KEY,
    fakes.WEBHOOK_SECRET,
    fakes.TELEGRAM_REPLY_SECRET,
    fakes.SMS_REPLY_SECRET,
)


def secret_file(path: Path, value: str, mode: int) -> Path:
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_secret_file_others_may_read_stops_the_command_with_exit_2_naming_it(
    tmp_path: Path, mode: int
) -> None:
    key = secret_file(tmp_path / "cle-session", SESSION_KEY, mode)
    db = f"sqlite:///{tmp_path / 'tocsin.db'}"
    refused = tocsin("db", "upgrade", "--db", db, env={"TOCSIN_SECRET_KEY_FILE": str(key)})
    assert refused.returncode == 2, refused.stderr
    assert f"fichier secret {key} (TOCSIN_SECRET_KEY_FILE)" in refused.stderr
    assert f"chmod 600 {key}" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "tocsin.db").exists()
    key.chmod(0o600)
    done = tocsin("db", "upgrade", "--db", db, env={"TOCSIN_SECRET_KEY_FILE": str(key)})
    assert done.returncode == 0, done.stderr


def test_a_missing_secret_file_and_an_open_signing_key_stop_serve_with_exit_2(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "absent"
    refused = tocsin("serve", env={"TOCSIN_CHANNELS__SMTP__PASSWORD_FILE": str(missing)})
    assert refused.returncode == 2
    assert f"fichier secret {missing} (TOCSIN_CHANNELS__SMTP__PASSWORD_FILE) : introuvable" in (
        refused.stderr
    )
    key = tmp_path / "signature.key"
    checkpointing.write_private_key(key)
    key.chmod(0o644)
    opened = tocsin("serve", env={"TOCSIN_CHECKPOINT_KEY_FILE": str(key)})
    assert opened.returncode == 2 and f"fichier secret {key} :" in opened.stderr


def test_a_configuration_file_holding_a_secret_must_be_private_one_without_need_not(
    tmp_path: Path,
) -> None:
    config = secret_file(
        tmp_path / "tocsin.toml", '[channels.telegram]\ntoken = "123:abcdef"', 0o644
    )
    db = f"sqlite:///{tmp_path / 'tocsin.db'}"
    refused = tocsin("db", "upgrade", "--db", db, env={"TOCSIN_CONFIG": str(config)})
    assert refused.returncode == 2 and f"fichier secret {config} :" in refused.stderr
    secret_file(config, 'base_url = "https://alerte.somme.gouv.fr"', 0o644)
    assert tocsin("db", "upgrade", "--db", db, env={"TOCSIN_CONFIG": str(config)}).returncode == 0


def test_file_twins_give_nested_secrets_their_value_beside_plain_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOCSIN_CONFIG", raising=False)
    password = secret_file(tmp_path / "smtp", SMTP_PASSWORD, 0o600)
    monkeypatch.setenv("TOCSIN_CHANNELS__SMTP__HOST", "smtp.prefecture.test")
    monkeypatch.setenv("TOCSIN_CHANNELS__SMTP__PASSWORD_FILE", str(password))
    monkeypatch.setenv("TOCSIN_SECRET_KEY_FILE", str(secret_file(tmp_path / "k", "k" * 40, 0o600)))
    settings = Settings()
    assert settings.channels.smtp is not None
    assert settings.channels.smtp.host == "smtp.prefecture.test"
    assert settings.channels.smtp.password == SecretStr(SMTP_PASSWORD)
    assert settings.secret_key == SecretStr("k" * 40)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line, as production writes them (JSON), down to DEBUG for every library."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    logs.configure(json_logs=True, level="DEBUG")
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    for noisy in ("uvicorn.access", "httpx", "httpcore", "aiosqlite", "apscheduler", "telegram"):
        logging.getLogger(noisy).setLevel(logging.DEBUG)
    yield stream
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    for noisy in ("uvicorn.access", "httpx", "httpcore", "aiosqlite", "apscheduler", "telegram"):
        logging.getLogger(noisy).setLevel(logging.NOTSET)


async def _every_row(db: Database) -> list[str]:
    rows: list[str] = []
    async with db.transaction() as session:
        for table in SQLModel.metadata.sorted_tables:
            result = await session.execute(text(f'SELECT * FROM "{table.name}"'))
            rows.extend(f"{table.name}: {row}" for row in result.all())
    return rows


async def _every_page(db: Database, clock: FrozenClock, settings: Settings, crisis: int) -> str:
    async with db.transaction() as session:
        bulletin, public_id = (
            await session.execute(
                text("SELECT id, public_id FROM bulletin WHERE crisis_id = :c ORDER BY id"),
                {"c": crisis},
            )
        ).first() or (0, "")
        contact = (await session.execute(text("SELECT min(id) FROM contact"))).scalar_one()
    roles = ("admin", "prefect", "communicator", "validator", "trainer", "operator")
    admin = await make_user(db, clock, "tout-voir", *roles)
    world = World(
        users={"admin": admin}, crisis_id=crisis, bulletin_id=bulletin, contact_id=contact,
        public_id=public_id,
    )  # fmt: skip
    app = create_app(settings, clock=clock, database=db)
    bodies: list[str] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tocsin.test"
    ) as client:
        for template in sorted({*PERSON_ROUTES, *NO_PERSON_ROUTES, "/metrics", "/readyz"}):
            if template == "/flux":
                continue  # an endless stream
            path = _path(template.replace("{token}", "x").replace("{key}", "x"), world)
            answer = await client.get(path, headers=admin.headers)
            bodies.append(f"{template} {answer.status_code} {answer.text}")
    return "\n".join(bodies)


async def test_no_secret_of_the_demo_shows_in_logs_journal_outbox_or_pages(
    db: Database,
    clock: FrozenClock,
    database_url: str,
    tmp_path: Path,
    log_lines: io.StringIO,
) -> None:
    pem, _ = new_private_key_pem()
    settings = Settings(
        database_url=database_url,
        secret_key=SecretStr(SESSION_KEY),
        scheduler_enabled=False,
        checkpoint_key_file=secret_file(tmp_path / "signature.key", pem.decode(), 0o600),
        checkpoint_dir=tmp_path / "points",
    )
    async with Sandbox(smtp_username="prefecture", smtp_password=SMTP_PASSWORD) as sandbox:
        configured, crisis = await play_demo(db, clock, settings, sandbox)
        worker = dispatcher_from_config(
            db=db, channels=configured.channels, exercise_channels=configured.exercise_channels,
            rng=random.Random(7),
        )  # fmt: skip
        sent = 0
        for _ in range(20):
            report = await worker.run(clock.now())
            sent += report.claimed
            if report.claimed == 0:
                break
            clock.advance(seconds=30)
        await worker.aclose()
        await clock_tick(db, configured)(clock.now())
        checkpointer = checkpointing.Checkpointer.from_settings(configured)
        assert checkpointer is not None
        await checkpointer.run(db, now=clock.now())
        assert sent > 20 and sandbox.smtp.state.received  # the fan-out went out, signed in
        pages = await _every_page(db, clock, configured, crisis)

    secrets = {*configured_secrets(configured), *SANDBOX_SECRETS, SMTP_PASSWORD, SESSION_KEY}
    key_lines = [line for line in pem.decode().splitlines() if not line.startswith("-----")]
    assert {SESSION_KEY, SMTP_PASSWORD, fakes.TELEGRAM_TOKEN} <= secrets and key_lines
    rows = await _every_row(db)
    assert any(r.startswith("journal_entry:") for r in rows)
    assert any(r.startswith("delivery:") for r in rows)
    written = [p.read_text() for p in (tmp_path / "points").glob("*.json")]
    places = {
        "logs": log_lines.getvalue(),
        "rows": "\n".join(rows),
        "pages": pages,
        "checkpoints": "\n".join(written),
    }
    assert places["logs"].count("\n") > 20 and "/evenements/" in pages and written
    leaks = [
        f"{where}: {secret[:12]}…"
        for where, found in places.items()
        for secret in [*secrets, *key_lines]
        if secret in found
    ]
    assert leaks == [], [
        line[:300] for line in places["logs"].splitlines() if any(s in line for s in secrets)
    ]
