"""PostgreSQL restarted (``-m fast``, then ``-m immediate``) under a worker during a fan-out.

Issue 22 item 3. The machine's shared PostgreSQL is never touched: the test starts a
throwaway cluster of its own (initdb + pg_ctl on a free port in a temporary directory, as the
``postgres`` user when run as root) and skips when the binaries are absent. The worker must
reconnect by itself; every delivery is sent, none lost, within 10 s of the undisturbed time.
``TOCSIN_CHAOS_PG_FAN_OUT`` (default 300) sets the fan-out.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from channels.sandbox.smtp import SmtpFake
from crisis.app.db import Database
from tests.chaos.cluster import Cluster
from tests.chaos.support import NEEDS_POSTGRES
from tests.crisis.dispatch_support import emails, enqueue
from tests.process_support import UNSETTLED, service_env, until

pytestmark = [pytest.mark.chaos, NEEDS_POSTGRES]  # several instances, or its own cluster

FAN_OUT = int(os.environ.get("TOCSIN_CHAOS_PG_FAN_OUT", "300"))


async def _settled(db: Database) -> bool:
    try:
        async with db.read() as session:
            return await session.scalar(sa.text(UNSETTLED)) == 0
    except (sa.exc.DBAPIError, OSError):
        return False


async def _fan_out(db: Database, smtp: SmtpFake, prefix: str, restart: list[str]) -> float:
    """Seconds from enqueueing to all settled; ``restart`` given: pg_ctl restart mid-way."""
    addresses = emails(FAN_OUT, prefix=prefix)
    before = len(smtp.state.received)
    began = time.monotonic()
    await enqueue(db, now=datetime.now(UTC), addresses=addresses)
    if restart:
        await until(lambda: len(smtp.state.received) >= before + FAN_OUT // 5, timeout=60)
        await db.dispose()
        await asyncio.to_thread(*restart)  # type: ignore[call-arg]
    took = await until(lambda: _settled(db), timeout=120, every=0.1)
    assert set(addresses) <= {m.recipient for m in smtp.state.received}  # none lost
    last = max(m.at for m in smtp.state.received).timestamp() - (time.time() - took)
    print(f"{prefix}: settled {took:.1f} s after the restart, last e-mail at {last:.1f} s")
    return time.monotonic() - began


async def test_a_worker_rides_out_postgresql_restarts_fast_and_immediate_with_nothing_lost(
    cluster: Cluster, smtp: SmtpFake, project_root: Path, postgres_server: str | None
) -> None:
    """`postgres_server` keeps it in the PostgreSQL run; it restarts a cluster of its own."""
    upgrade = [sys.executable, "-m", "crisis", "db", "upgrade", "--db", cluster.url]
    await asyncio.to_thread(subprocess.run, upgrade, check=True, cwd=project_root, timeout=120)
    db = Database.from_url(cluster.url)
    env = os.environ | service_env(smtp, rate=100)
    worker = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "crisis", "worker", "--db", cluster.url),
        cwd=project_root,
        env=env,
    )
    try:
        await _fan_out(db, smtp, "chauffe", [])  # the worker's start is not part of it
        calm = await _fan_out(db, smtp, "calme", [])
        fast = await _fan_out(db, smtp, "fast", [cluster.ctl, "restart", "-m", "fast"])
        immediate = await _fan_out(db, smtp, "imm", [cluster.ctl, "restart", "-m", "immediate"])
        alive = worker.returncode is None
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGKILL)
        await worker.wait()
        await db.dispose()
    print(
        f"PostgreSQL restarted under a {FAN_OUT}-e-mail fan-out: undisturbed {calm:.1f} s,"
        f" restart -m fast {fast:.1f} s, -m immediate {immediate:.1f} s;"
        f" {smtp.state.delivered_twice} sent twice"
    )
    assert alive
    assert fast <= calm + 10, (calm, fast)
    assert immediate <= calm + 10, (calm, immediate)
