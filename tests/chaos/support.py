"""What the chaos tests share: the service's environment for the sandbox SMTP server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from channels.sandbox.smtp import SmtpFake
from tests.conftest import ON_POSTGRESQL


def service_env(smtp: SmtpFake, *, rate: int) -> dict[str, str]:
    """A `tocsin serve` or `tocsin worker` sending its e-mail to ``smtp``, quietly."""
    return {
        "TOCSIN_SECRET_KEY": "chaos-test",
        "TOCSIN_JSON_LOGS": "false",
        "TOCSIN_LOG_LEVEL": "WARNING",
        "TOCSIN_CHANNELS__SMTP__HOST": "127.0.0.1",
        "TOCSIN_CHANNELS__SMTP__PORT": str(smtp.port),
        "TOCSIN_CHANNELS__SMTP__SECURITY": "none",
        "TOCSIN_CHANNELS__SMTP__RATE_PER_SECOND": str(rate),
    }


NEEDS_POSTGRES = pytest.mark.skipif(not ON_POSTGRESQL, reason="the PostgreSQL half of the suite")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def answers(url: str) -> bool:
    """Whether the service at ``url`` answers ``/readyz`` with 200."""
    try:
        async with httpx.AsyncClient(timeout=0.5) as client:
            return (await client.get(f"{url}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def until(predicate: Callable[[], object], *, timeout: float, every: float = 0.05) -> float:
    """Wait until ``predicate`` holds (awaited if it is a coroutine); the seconds it took."""
    began = time.monotonic()
    while True:
        found = predicate()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return time.monotonic() - began
        assert time.monotonic() - began < timeout, "timed out"
        await asyncio.sleep(every)


def _stats() -> dict[int, list[str]]:
    """Each process's /proc stat fields after its name (state first)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # ended meanwhile
    return found


def group(pgid: int) -> dict[int, list[str]]:
    """The processes of a process group: `tocsin serve` and the worker child it spawns."""
    return {pid: fields for pid, fields in _stats().items() if int(fields[2]) == pgid}


def cpu_seconds(pgid: int) -> float:
    """User and system CPU time a process group has used so far (robust under load)."""
    ticks = sum(int(f[11]) + int(f[12]) for f in group(pgid).values())
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Service:
    """One `tocsin serve` (or `worker`) process, started again after each kill.

    Its clock starts at ``start_at`` and runs on across restarts; ``skip`` moves it forward
    (time passed while the service was down).
    """

    database_url: str
    env: dict[str, str]
    root: Path
    start_at: datetime
    command: str = "serve"
    process: asyncio.subprocess.Process | None = None
    url: str = ""
    skipped: timedelta = timedelta(0)
    cpu: list[float] = field(default_factory=list)  # CPU seconds of each start until ready
    _began: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        return self.start_at + self.skipped + timedelta(seconds=time.monotonic() - self._began)

    async def start(self, *, skip: timedelta = timedelta(0)) -> float:
        """Started; the seconds until it answered ``/readyz`` (0 for a worker)."""
        self.skipped += skip
        port = free_port()
        args = ["-m", "crisis", self.command, "--db", self.database_url]
        if self.command == "serve":
            args += ["--port", str(port)]
        env = os.environ | self.env | {"TOCSIN_FAKE_NOW": self.now().isoformat()}
        began = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=self.root, env=env, start_new_session=True,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{port}"
        if self.command != "serve":
            return 0.0
        await until(lambda: answers(self.url), timeout=120)
        self.cpu.append(cpu_seconds(self.process.pid))
        return time.monotonic() - began

    def signal(self, sig: signal.Signals) -> None:
        """``sig`` to the whole instance: `tocsin serve` and its worker child."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def pids(self) -> set[int]:
        assert self.process is not None
        return set(group(self.process.pid))

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.signal(signal.SIGKILL)
            self.signal(signal.SIGCONT)
            await self.process.wait()
