"""Keeps the worker child of `tocsin serve` running.

A worker that ends on its own (a crash, the kernel's out-of-memory killer, an operator's
`kill -9`) would leave a web that answers while nothing is sent and no clock alert goes out.
The supervisor watches the child from a thread of the parent: an unexpected end is logged as
an error and a new child is started after 1 s, then 2, 4 … up to 30 s while it keeps ending
within a minute of its start. Until it runs again, `/readyz` answers 503 (its metrics port does
not answer: crisis/app/api/ops.py). The new child takes the deliveries the dead one held once
their lease runs out, like any other instance (docs/operations.md). A child that ends cleanly
while the parent stops too (a signal to the whole group) is no crash: neither logged nor
started again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import wait

from crisis.app.worker import WorkerChild

log = logging.getLogger("tocsin.worker")
FIRST_DELAY = 1.0
LONGEST_DELAY = 30.0
STEADY_SECONDS = 60.0  # a child that ran this long starts the delays over


class WorkerSupervisor:
    """The current worker child, started again whenever it ends without being asked to."""

    def __init__(
        self,
        start: Callable[[], WorkerChild],
        *,
        pause: Callable[[float], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._start = start
        self._stopping = threading.Event()
        self._pause = pause or self._wait_unless_stopped
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.child = start()
        self.restarts = 0
        self._watcher = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)
        self._watcher.start()

    def stop(self) -> int | None:
        """Stop watching, then stop the child cleanly; its exit code."""
        self._stopping.set()
        with self._lock:
            return self.child.stop()

    def _wait_unless_stopped(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _stopped_meanwhile(self) -> bool:
        """A child ends cleanly (exit code 0) only when told to: by the parent, or by a signal
        to the whole process group (`systemctl stop`, Ctrl-C), which stops the parent within
        moments. Wait that long before calling it a crash."""
        self._pause(FIRST_DELAY)
        return self._stopping.is_set()

    def join(self, timeout: float | None = None) -> None:
        self._watcher.join(timeout)

    def _watch(self) -> None:
        delay = FIRST_DELAY
        started = self._monotonic()
        while not self._stopping.is_set():
            if not wait([self.child.process.sentinel], timeout=0.5):
                continue
            if self._stopping.is_set():
                return
            self.child.process.join(5)  # reaped: its exit code is known
            if self.child.process.exitcode == 0 and self._stopped_meanwhile():
                return  # the whole group was told to stop (systemd, Ctrl-C): no crash
            if self._monotonic() - started >= STEADY_SECONDS:
                delay = FIRST_DELAY
            log.error(
                "worker child %s ended unexpectedly (exit code %s): started again in %.0f s",
                self.child.process.pid,
                self.child.process.exitcode,
                delay,
            )
            self._pause(delay)
            with self._lock:
                if self._stopping.is_set():
                    return
                self.child.lifeline.close()
                self.child = self._start()
                self.restarts += 1
            started = self._monotonic()
            delay = min(delay * 2, LONGEST_DELAY)
