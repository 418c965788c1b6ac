"""The worker: the dispatcher, the ticks and the scheduler leadership in a process of their own.

`tocsin worker` runs it alone; `tocsin serve` starts one as a child process (spawned, the
settings pickled through its arguments, never in argv), which stops when its parent does: the
child holds the read end of a pipe whose only write end is the parent's, and the end of file
the kernel gives when the parent dies, however it dies, is the child's signal to stop.

A stop (SIGTERM, SIGINT, the parent gone) lets the ticks under way end, lets the sends in flight
finish within the dispatcher's grace and gives back the deliveries it still holds, marks the
instance stopped and hands the scheduler lease over, closes the channels and the pool, and
exits 0 (docs/operations.md « Plusieurs instances, redémarrages »).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import socket
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess

from prometheus_client import CollectorRegistry, start_http_server

from crisis.app import cip_inbox
from crisis.app.background import build_background
from crisis.app.clock import clock_from_environment
from crisis.app.db import Database
from crisis.app.dispatch import build_dispatcher
from crisis.app.instance_locks import hold_single_instance
from crisis.app.logs import configure as configure_logs
from crisis.app.secret_files import register_settings_secrets
from crisis.app.settings import Settings

log = logging.getLogger("tocsin.worker")
STOP_SECONDS = 45.0  # the background's grace for a tick under way, plus closing


@dataclass(frozen=True, slots=True)
class Metrics:
    """Where the worker serves its Prometheus metrics (the dispatcher's)."""

    port: int
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"


async def work(
    settings: Settings, *, metrics: Metrics | None = None, parent: Connection | None = None
) -> None:
    """Run the background until SIGTERM, SIGINT, or the end of `parent`'s pipe. On SQLite, one
    worker per file (`AlreadyRunning` otherwise)."""
    register_settings_secrets(settings)
    single = hold_single_instance(settings.database_url, "worker")
    clock = clock_from_environment(dict(os.environ))
    database = Database.from_settings(settings)
    registry = CollectorRegistry()
    dispatcher = build_dispatcher(settings, database, clock, registry=registry)
    background = build_background(
        database,
        clock,
        tick_seconds=settings.tick_seconds,
        settings=settings,
        dispatcher=dispatcher,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if parent is not None:
        loop.add_reader(parent.fileno(), stop.set)
    exporter = None
    if metrics is not None:
        exporter, _ = start_http_server(metrics.port, addr=metrics.host, registry=registry)
    try:
        async with background.running(), cip_inbox.serving(settings, database, clock):
            log.info("worker started", extra={"pid": os.getpid()})
            await stop.wait()
            log.info("worker stopping: the ticks under way end first")
    finally:
        if exporter is not None:
            exporter.shutdown()
        await database.dispose()
        if single is not None:
            single.close()
    log.info("worker stopped")


def _child_main(settings: Settings, parent: Connection, metrics: Metrics | None) -> None:
    configure_logs(json_logs=settings.json_logs, level=settings.log_level)
    asyncio.run(work(settings, metrics=metrics, parent=parent))
    gc.freeze()  # everything is closed: exit without a last full collection (seconds of CPU)


@dataclass
class WorkerChild:
    """The worker `tocsin serve` starts beside the web."""

    process: SpawnProcess
    lifeline: Connection  # the pipe's write end: held open while this process lives

    def stop(self, timeout: float = STOP_SECONDS) -> int | None:
        if self.process.is_alive():
            self.process.terminate()  # SIGTERM: a clean stop
            self.process.join(timeout)
        if self.process.is_alive():
            log.error("worker did not stop in %.0f s: killed", timeout)
            self.process.kill()
            self.process.join(5)
        self.lifeline.close()
        return self.process.exitcode


def start_child(settings: Settings, *, metrics: Metrics | None = None) -> WorkerChild:
    context = multiprocessing.get_context("spawn")
    receiving, lifeline = context.Pipe(duplex=False)
    process = context.Process(
        target=_child_main, args=(settings, receiving, metrics), name="tocsin-worker"
    )
    process.start()
    receiving.close()  # only the child holds the read end now
    log.info("worker started as a child process", extra={"pid": process.pid})
    return WorkerChild(process, lifeline)


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
