"""A `tocsin serve` the benches start on loopback: a free port, and the wait for `/readyz`."""

from __future__ import annotations

import socket
import subprocess
import time

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
