"""`tocsin serve` SIGKILLed between and during the steps of a crisis script (issue 22 item 3).

The script, through the API as people play it: declare (the cell paged) → COD activated (ES48
starts) → bulletin drafted, submitted, approved, published → its fan-out → an acknowledgement
→ the CIP ordered, three operators checking in, opened, a call logged → a drill planned and
launched → the crisis closed. A seeded draw picks ``TOCSIN_CHAOS_SCRIPT_KILLS`` steps (default
4); each is killed before it is sent, or while it is in flight (then sent again, with the same
``Idempotency-Key``). ``TOCSIN_CHAOS_LONG=1`` kills before and during every step. Each restart
moves the service's clock 11 minutes on (time passed while down), so clock alerts come due.

After each restart: ``/readyz`` timed, the journal verifies against its last signed checkpoint,
no clock alert sent twice, no exercise traffic reached a real recipient. At the end: every step
happened exactly once, every bulletin e-mail sent and received, `tocsin journal verify` passes.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from channels.sandbox.smtp import SmtpFake
from crisis.app import checkpointing
from crisis.app.db import Database
from tests.chaos.script_support import (
    PLAYER_DOMAIN,
    Build,
    Request,
    Script,
    alerts_sent,
    invariants,
    journal_holds,
    latest_checkpoint,
    scalar,
)
from tests.chaos.support import Service, assert_restarts_cost_like_a_first_start
from tests.crisis.bulletin_support import ABBEVILLE, BODY, TITLE, load_directory, person
from tests.crisis.cip.cip_support import NUMBER
from tests.crisis.lifecycle_support import add_contact, roster
from tests.exercises.support import crisis_drill_body
from tests.process_support import service_env, until
from tests.support import FrozenClock, make_user

pytestmark = pytest.mark.chaos

LONG = bool(os.environ.get("TOCSIN_CHAOS_LONG"))
KILLS = int(os.environ.get("TOCSIN_CHAOS_SCRIPT_KILLS", "4"))
SEED = int(os.environ.get("TOCSIN_CHAOS_SEED", "22"))
OFFICIALS = int(os.environ.get("TOCSIN_CHAOS_SCRIPT_OFFICIALS", "120"))
DOWN = timedelta(minutes=11)
UNSETTLED = "SELECT count(*) FROM delivery WHERE status IN ('pending', 'retrying', 'sending')"
BULLETIN_MAIL = (
    "SELECT count(*) FROM delivery WHERE purpose = 'bulletin' AND channel = 'email'"
    " AND status = 'sent'"
)


def _crisis(s: Script) -> str:
    return f"/api/v1/crises/{s.ids['declare']}"


def _bulletin(s: Script, act: str) -> Request:
    user = s.users["validator" if act == "approve" else "com"]
    return Request(f"/api/v1/bulletins/{s.ids['draft']}/{act}", user)


def _check_in(who: str, role: str) -> Build:
    return lambda s: Request(f"{_crisis(s)}/cip/operators", s.users[who], {"role": role})


def _call(s: Script) -> Request:
    now = s.now()
    body = {
        "received_at": (now - timedelta(seconds=90)).isoformat(),
        "answered_at": (now - timedelta(seconds=80)).isoformat(),
        "ended_at": (now - timedelta(seconds=10)).isoformat(),
        "commune": ABBEVILLE,
        "topic": "schools",
        "question": "Les écoles d'Abbeville sont-elles ouvertes demain ?",
        "answer": "Fermées jusqu'à nouvel ordre.",
    }
    return Request(f"{_crisis(s)}/cip/calls", s.users["op1"], body)


STEPS: list[tuple[str, Build | None]] = [
    ("declare", lambda s: Request(
        "/api/v1/crises", s.users["prefect"],
        {"title": "Crue de la Somme", "kind": "crue", "mode": "real", "communes": [ABBEVILLE]},
    )),
    ("cod", lambda s: Request(
        f"{_crisis(s)}/cod", s.users["prefect"],
        {"activated_at": (s.now() - timedelta(minutes=1)).isoformat(),
         "synergi_ref": "SYN-80-2026-0042", "decided_by": "Mme la préfète"},
    )),
    ("draft", lambda s: Request(
        f"{_crisis(s)}/bulletins", s.users["com"],
        {"title": TITLE, "body": BODY, "audiences": ["officials", "media"], "channels": ["email"]},
    )),
    ("submit", lambda s: _bulletin(s, "submit")),
    ("approve", lambda s: _bulletin(s, "approve")),
    ("publish", lambda s: _bulletin(s, "publish")),
    ("fan-out", None),  # waits for part of the e-mails: a kill there falls mid-fan-out
    ("acknowledge", lambda s: Request(
        f"{_crisis(s)}/cell/acknowledgements", s.users["prefect"],
        {"contact": s.people["Camille Com1"], "role": "communication"},
    )),
    ("cip-order", lambda s: Request(
        f"{_crisis(s)}/cip", s.users["prefect"], {"number": NUMBER, "ordered_by": "la préfète"}
    )),
    ("check-in-head", _check_in("head", "head")),
    ("check-in-1", _check_in("op1", "operator")),
    ("check-in-2", _check_in("op2", "operator")),
    ("cip-open", lambda s: Request(f"{_crisis(s)}/cip/open", s.users["head"])),
    ("call", _call),
    ("drill-plan", lambda s: Request(
        "/api/v1/exercises", s.users["trainer"], crisis_drill_body(s.players)
    )),
    ("drill-launch", lambda s: Request(
        f"/api/v1/exercises/{s.ids['drill-plan']}/launch", s.users["trainer"]
    )),
    ("close", lambda s: Request(f"{_crisis(s)}/close", s.users["prefect"])),
]  # fmt: skip
# Exactly once, whatever the kills: (table, rows expected at the end).
ONCE = [
    ("crisis", 2),  # the real one and the drill's
    ("bulletin", 1),
    ("cell_acknowledgement", 1),
    ("cip", 1),
    ("cip_shift", 3),
    ("cip_call", 1),
    ("exercise_drill", 1),
    ("exercise_run", 1),
]


def _plan(rng: random.Random) -> dict[str, list[str]]:
    """Per step, the kills it takes: ``before`` it is sent, ``during`` its request."""
    names = [name for name, _ in STEPS]
    if LONG:
        return {name: ["before", "during"] for name in names}
    chosen = rng.sample(names, min(KILLS, len(names)))
    return {name: [rng.choice(["before", "during"])] for name in chosen}


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[SmtpFake, SmtpFake]]:
    """The real channels' SMTP server, and the exercise channels' own."""
    real, drill = SmtpFake(), SmtpFake()
    await real.start()
    await drill.start()
    yield real, drill
    await real.stop()
    await drill.stop()


async def _script(db: Database, clock: FrozenClock) -> Script:
    users = {
        login: await make_user(db, clock, login, role)
        for login, role in (
            ("prefect", "prefect"), ("com", "communicator"), ("validator", "validator"),
            ("head", "operator"), ("op1", "operator"), ("op2", "operator"),
            ("trainer", "trainer"),
        )
    }  # fmt: skip
    officials = [
        person(f"elu-{n}", "officials", [("email", f"elu{n}@mairies.test")])
        for n in range(OFFICIALS)
    ]
    await load_directory(db, clock.now(), officials)
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
        players = [
            await add_contact(
                session, name=f"Joueur{n} Exercice", audience="exercise",
                channel=("email", f"joueur{n}{PLAYER_DOMAIN}"), now=clock.now(),
            )
            for n in (1, 2)
        ]  # fmt: skip
    return Script(users=users, people=people, players=players)


def _environment(real: SmtpFake, drill: SmtpFake, key: Path, points: Path) -> dict[str, str]:
    return service_env(real, rate=200) | {
        "TOCSIN_EXERCISE_CHANNELS__SMTP__HOST": "127.0.0.1",
        "TOCSIN_EXERCISE_CHANNELS__SMTP__PORT": str(drill.port),
        "TOCSIN_EXERCISE_CHANNELS__SMTP__SECURITY": "none",
        "TOCSIN_EXERCISE_CHANNELS__SMTP__SANDBOX": "true",
        "TOCSIN_CHECKPOINT_KEY_FILE": str(key),
        "TOCSIN_CHECKPOINT_DIR": str(points),
        "TOCSIN_CHECKPOINT_INTERVAL_MINUTES": "1",
        "TOCSIN_CHECKPOINT_TICK_SECONDS": "0.5",
        "TOCSIN_CLOCK_TICK_SECONDS": "0.2",
        "TOCSIN_DISPATCH__CLAIM_SIZE": "25",
        "TOCSIN_HEARTBEAT_SECONDS": "0.5",
        "TOCSIN_INSTANCE_DEAD_AFTER_SECONDS": "2",
        "TOCSIN_LEADER_LEASE_SECONDS": "3",
    }


@dataclass
class Chaos:
    """The service under test, killed and started again; what each restart showed."""

    service: Service
    db: Database
    points: Path
    trusted: Ed25519PublicKey
    fakes: tuple[SmtpFake, SmtpFake]
    rng: random.Random
    ready: list[float] = field(default_factory=list)
    anchored: list[int] = field(default_factory=list)
    cut: int = 0  # requests the kill cut before their answer

    async def kill_and_restart(self) -> None:
        await self.service.kill()
        self.ready.append(await self.service.start(skip=DOWN))
        await until(lambda: latest_checkpoint(self.points) is not None, timeout=30)
        self.anchored.append(await journal_holds(self.db, self.points, self.trusted))
        await invariants(self.db, *self.fakes)

    async def step(self, script: Script, name: str, build: Build | None, kills: list[str]) -> None:
        """The step played, killed as planned."""
        if "before" in kills:
            await self.kill_and_restart()
        if build is None:
            part = self.rng.randint(0, OFFICIALS - 1)
            await until(lambda: _mailed(self.fakes[0]) >= part, timeout=60)
            if "during" in kills:
                await self.kill_and_restart()
            return
        request = build(script)
        if "during" not in kills:
            await script.send(self.service.url, name, request)
            return
        flying = asyncio.ensure_future(script.send(self.service.url, name, request))
        await asyncio.sleep(self.rng.uniform(0.0, 0.15))
        await self.kill_and_restart()
        (outcome,) = await asyncio.gather(flying, return_exceptions=True)
        self.cut += isinstance(outcome, BaseException)
        await script.send(self.service.url, name, request)  # the same key: done once


def _mailed(real: SmtpFake) -> int:
    return sum(1 for m in real.state.received if m.recipient.endswith("@mairies.test"))


async def test_a_service_killed_between_and_during_every_step_of_a_crisis_script_does_each_once(
    db: Database, clock: FrozenClock, database_url: str, project_root: Path,
    fakes: tuple[SmtpFake, SmtpFake], tmp_path: Path,
) -> None:  # fmt: skip
    real, drill = fakes
    rng = random.Random(SEED)
    plan = _plan(rng)
    script = await _script(db, clock)
    key, points = tmp_path / "checkpoint.pem", tmp_path / "points"
    trusted = checkpointing.write_private_key(key)
    points.mkdir()
    env = _environment(real, drill, key, points)
    service = Service(database_url, env, project_root, start_at=clock.now())
    script.now = service.now
    chaos = Chaos(service, db, points, trusted, fakes, rng)
    first = await service.start()
    try:
        for name, build in STEPS:
            if name == "close":
                await until(lambda: _settled(db), timeout=120, every=0.2)
            await chaos.step(script, name, build, plan.get(name, []))
        await until(lambda: _settled(db), timeout=120, every=0.2)
        await until(lambda: latest_checkpoint(points) is not None, timeout=30)
    finally:
        await service.kill()
    ready, anchored = chaos.ready, chaos.anchored
    print(
        f"{len(ready)} kill points (seed {SEED}) in a {len(STEPS)}-step crisis script"
        f" {sorted((n, k) for n, ks in plan.items() for k in ks)}: /readyz after each restart"
        f" {[round(r, 1) for r in ready]} s, CPU {[round(c, 2) for c in service.cpu[1:]]} s"
        f" (first start {first:.1f} s, CPU {service.cpu[0]:.2f} s); {chaos.cut} requests cut"
        f" by the kill; e-mails sent twice"
        f" {real.state.delivered_twice}; clock alerts sent {len(await alerts_sent(db))};"
        f" checkpoints anchored at {anchored} entries"
    )
    await invariants(db, real, drill)
    assert len(ready) == sum(len(k) for k in plan.values())
    for table, expected in ONCE:
        assert await scalar(db, f"SELECT count(*) FROM {table}") == expected, table
    assert await scalar(db, BULLETIN_MAIL) == OFFICIALS
    assert {f"elu{n}@mairies.test" for n in range(OFFICIALS)} <= {
        m.recipient for m in real.state.received
    }
    mailed = {(m.recipient, m.key) for m in real.state.received if "@mairies" in m.recipient}
    assert len(mailed) == OFFICIALS  # a resend only under the same Message-ID
    assert drill.state.received, "the drill paged its players through the exercise channels"
    assert_restarts_cost_like_a_first_start(service.cpu)
    await _verified_by_the_command(database_url, project_root, points, key)


async def _settled(db: Database) -> bool:
    return await scalar(db, UNSETTLED) == 0


async def _verified_by_the_command(url: str, root: Path, points: Path, key: Path) -> None:
    path = latest_checkpoint(points)
    assert path is not None
    verify = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "crisis", "journal", "verify", "--db", url),
        *("--checkpoint", str(path)),
        cwd=root,
        env=os.environ | {"TOCSIN_CHECKPOINT_KEY_FILE": str(key)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await verify.communicate()
    assert verify.returncode == 0, output.decode()
    assert "point de contrôle" in output.decode()
