"""A `tocsin serve` the benches start on loopback: a free port, and the wait for `/readyz`."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes], *, limit_s: float, log: str) -> float:
    """Seconds until `url`/readyz answers 200; RuntimeError (naming `log`, where the server
    writes) if the process ends first or `limit_s` passes. Stopping it is the caller's."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if process.poll() is not None:
            raise RuntimeError(f"tocsin serve s'est arrêté ({process.returncode}) ; voir {log}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"tocsin serve pas prêt après {limit_s:.0f} s ; voir {log}")


def _process_stats() -> Iterator[tuple[str, list[str]]]:
    """(command name, the fields after it) of each live process, from /proc/*/stat."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                head, _, tail = stat.read().rpartition(")")
        except OSError:  # ended meanwhile
            continue
        yield head.partition("(")[2], tail.split()


def _cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def group_cpu_seconds(group: int) -> float:
    """CPU seconds of the live processes of process group `group` (a server started with
    `start_new_session=True`: its web processes and their threads)."""
    return sum(_cpu(fields) for _, fields in _process_stats() if int(fields[2]) == group)


def command_cpu_seconds(command: str) -> float:
    """CPU seconds of every live process named `command` (`postgres`: the server's backends)."""
    return sum(_cpu(fields) for name, fields in _process_stats() if name == command)
