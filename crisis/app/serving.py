"""`tocsin serve`: the web in this process (or several, on PostgreSQL) and, unless told
otherwise, one worker child process for the dispatcher and the ticks (crisis/app/worker.py).

Whatever prepares the service runs here first, before any child starts: migrations, the demo's
users, directory, sandbox and scenario, the checkpoint settings.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

import typer
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from uvicorn.supervisors import Multiprocess

from channels.sandbox import LOOPBACK
from crisis.app import bootstrap, checkpointing, demo_exercises, demo_scenario
from crisis.app.cli_common import fail, require_secret_key
from crisis.app.clock import Clock, clock_from_environment
from crisis.app.db import Database
from crisis.app.demo_channels import (
    DemoSandbox,
    SandboxProcess,
    SandboxUnreachable,
    SharedSandbox,
    with_sandbox,
)
from crisis.app.instance_locks import AlreadyRunning, hold_single_instance
from crisis.app.library import playbook_library
from crisis.app.logs import configure as configure_logs
from crisis.app.settings import Settings
from crisis.app.worker import Metrics, free_loopback_port, start_child
from crisis.app.worker_supervisor import WorkerSupervisor
from crisis.checkpoints import CheckpointError

log = logging.getLogger("tocsin.serve")
WEB_PROCESS_START_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Layout:
    host: str
    port: int
    web_processes: int = 1
    with_worker: bool = True
    sandbox_url: str | None = None  # --sandbox: join a running `tocsin sandbox`


def check_layout(settings: Settings, layout: Layout) -> None:
    """Refuse, before anything starts, a layout that cannot work (exit 2)."""
    if settings.demo and not layout.with_worker:
        fail(
            "Erreur : --web-only ne va pas avec --demo : les envois de la démonstration partent "
            "du worker que « tocsin serve » démarre, vers le bac à sable de ce processus.",
            2,
        )
    if layout.sandbox_url is not None:
        _check_sandbox_url(settings, layout.sandbox_url)
    backend = make_url(settings.database_url).get_backend_name()
    if layout.web_processes > 1 and backend not in ("postgresql", "postgres"):
        fail(
            "Erreur : plusieurs processus web demandent PostgreSQL ; SQLite n'admet qu'un "
            "processus web (--web-processes 1).",
            2,
        )


def _check_sandbox_url(settings: Settings, url: str) -> None:
    if not settings.demo:
        fail("Erreur : --sandbox ne va qu'avec --demo.", 2)
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        fail(
            f"Erreur : --sandbox {url} : l'adresse de la page d'un bac à sable local est "
            "attendue, en http sur la boucle locale (http://127.0.0.1:8090 par défaut).",
            2,
        )


def _demo_sandbox(settings: Settings, layout: Layout) -> DemoSandbox | None:
    """The demo's own sandbox process (started with the demo), or the running one ``--sandbox``
    names, joined now: an address where none answers is refused before anything is prepared."""
    if not settings.demo:
        return None
    if layout.sandbox_url is not None:
        try:
            return SharedSandbox(layout.sandbox_url).start()
        except SandboxUnreachable as unreachable:
            fail(f"Erreur : {unreachable}.", 2)
    return SandboxProcess(json_logs=settings.json_logs, level=settings.log_level)


def serve(settings: Settings, layout: Layout) -> None:
    check_layout(settings, layout)
    sandbox = _demo_sandbox(settings, layout)
    settings = shared_secret(settings)
    web_lock = _single_instance(settings, layout)
    try:
        if layout.web_processes == 1:
            asyncio.run(_serve_here(settings, layout, sandbox))
        else:
            settings = asyncio.run(_prepared(settings, layout, sandbox))
            _serve_many(settings, layout)
    finally:
        if sandbox is not None:
            sandbox.stop()
        if web_lock is not None:
            web_lock.close()
    gc.freeze()  # everything is closed: exit without a last full collection


def shared_secret(settings: Settings) -> Settings:
    """Every process (the web ones, the worker child) signs sessions and receipt links with one
    key: outside the demo, `TOCSIN_SECRET_KEY` or no start (exit 2); the demo draws one per run."""
    if settings.secret_key is not None:
        return settings
    require_secret_key(settings)
    return settings.model_copy(update={"secret_key": SecretStr(secrets.token_urlsafe(48))})


def _single_instance(settings: Settings, layout: Layout) -> IO[str] | None:
    """On SQLite, this web's lock for as long as it serves; a worker already running beside
    the file (`tocsin worker`) is refused now, not after the start."""
    try:
        lock = hold_single_instance(settings.database_url, "web")
        if layout.with_worker:
            probe = hold_single_instance(settings.database_url, "worker")
            if probe is not None:
                probe.close()  # the child takes it
    except AlreadyRunning as running:
        fail(f"Erreur : {running}.", 2)
        raise  # fail() exits; this line only tells the type checker
    return lock


async def _prepared(
    settings: Settings,
    layout: Layout,
    sandbox: DemoSandbox | None,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
) -> Settings:
    """Migrate, set up the demo, the checkpoints; the settings every process then runs with."""
    clock = clock or clock_from_environment(dict(os.environ))
    owned = database is None
    database = database or Database.from_settings(settings)
    try:
        await bootstrap.prepare(database, settings.database_url)
        if sandbox is not None:
            settings = await _demo(settings, layout, sandbox, database, clock)
        settings = _with_checkpoints(settings)
        await asyncio.to_thread(playbook_library)  # checked once, before the first declaration
    finally:
        if owned:
            await database.dispose()
    return settings


async def _demo(
    settings: Settings, layout: Layout, sandbox: DemoSandbox, database: Database, clock: Clock
) -> Settings:
    logins = await bootstrap.demo_users(database, clock)
    from crisis import directory  # the synthetic Somme directory and roster

    async with database.transaction() as session:
        await directory.load_demo(session, now=clock.now())
    typer.echo(f"\nTocsin — démonstration sur http://{layout.host}:{layout.port}")
    typer.echo("Comptes de démonstration :")
    for entry in logins:
        typer.echo(f"  {entry.login:<12} {entry.password:<20} {', '.join(entry.roles)}")
    typer.echo("")
    running = await asyncio.to_thread(sandbox.start)
    try:
        settings = await asyncio.to_thread(with_sandbox, settings, running)
    except SandboxUnreachable as unreachable:  # a joined sandbox stopped meanwhile
        fail(f"Erreur : {unreachable}.", 2)
    typer.echo(f"Messages envoyés (bac à sable des canaux) : {running.urls['dashboard']}/")
    crisis_id = await demo_scenario.play_once(database, settings, now=clock.now())
    typer.echo(
        f"Événement de démonstration : http://{layout.host}:{layout.port}/evenements/{crisis_id}"
    )
    drill_id = await demo_exercises.plan_once(database, settings, now=clock.now())
    if drill_id is not None:
        typer.echo(
            "Test d'astreinte lancé dans deux minutes : "
            f"http://{layout.host}:{layout.port}/exercices/{drill_id}"
        )
    typer.echo("")
    return settings


def _with_checkpoints(settings: Settings) -> Settings:
    """Demo: a signing key and a checkpoint directory beside the database. Otherwise, a
    service without checkpoints starts, but says so loudly (and `/readyz` shows it)."""
    if settings.demo:
        data_directory = checkpointing.data_directory(settings.database_url)
        settings = checkpointing.demo_settings(settings, data_directory)
        typer.echo(f"Points de contrôle signés de la main courante : {settings.checkpoint_dir}/")
    try:
        checkpointing.Checkpointer.from_settings(settings)  # a bad key stops the start, clearly
    except CheckpointError as error:
        fail(f"Erreur : {error}.", 2)
    warning = checkpointing.startup_warning(settings)
    if warning:
        typer.echo(warning, err=True)
        logging.getLogger("tocsin.checkpoints").warning(warning)
    return settings


@contextmanager
def _worker_beside(settings: Settings, layout: Layout) -> Iterator[Settings]:
    """The worker child for the time of the block, started again if it dies
    (crisis/app/worker_supervisor.py); the web's `/metrics` shows its metrics."""
    if not layout.with_worker:
        yield settings
        return
    metrics = Metrics(port=free_loopback_port())
    supervisor = WorkerSupervisor(lambda: start_child(settings, metrics=metrics))
    try:
        yield settings.model_copy(update={"worker_metrics_url": metrics.url})
    finally:
        code = supervisor.stop()
        log.info("worker child stopped", extra={"exit_code": code})


@contextmanager
def _signals_end_the_server() -> Iterator[list[int]]:
    """uvicorn re-raises the SIGTERM or SIGINT that stopped it once it has shut down; with
    these handlers that second delivery is only noted, so the worker child is stopped and the
    command exits 0 instead of dying on the spot. A signal noted before uvicorn took over
    means: do not start serving."""
    received: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda number, _frame: received.append(number))
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def _serve_here(settings: Settings, layout: Layout, sandbox: DemoSandbox | None) -> None:
    clock = clock_from_environment(dict(os.environ))
    database = Database.from_settings(settings)
    try:
        settings = await _prepared(settings, layout, sandbox, database=database, clock=clock)
        with _signals_end_the_server() as stopped, _worker_beside(settings, layout) as running:
            # The web app is imported while the worker child imports its own half.
            from crisis.app.factory import create_app

            web = create_app(running, clock=clock, database=database)
            gc.freeze()  # the app lives as long as the process: no collection walks it again
            config = uvicorn.Config(
                web, host=layout.host, port=layout.port, log_config=None, access_log=False
            )
            if not stopped:
                await uvicorn.Server(config).serve()
    finally:
        await database.dispose()


@dataclass(frozen=True, slots=True)
class WebFactory:
    """Builds the app in each web process (pickled to it with the settings)."""

    settings: Settings

    def __call__(self) -> FastAPI:
        configure_logs(json_logs=self.settings.json_logs, level=self.settings.log_level)
        from crisis.app.factory import create_app

        app = create_app(self.settings, clock=clock_from_environment(dict(os.environ)))
        gc.freeze()  # the app lives as long as the process: no collection walks it again
        return app


def _serve_many(settings: Settings, layout: Layout) -> None:
    """Several web processes on one socket (uvicorn's supervisor restarts one that dies)."""
    with _worker_beside(settings, layout) as running:
        config = uvicorn.Config(
            WebFactory(running),
            factory=True,
            host=layout.host,
            port=layout.port,
            workers=layout.web_processes,
            log_config=None,
            access_log=False,
            # A process importing the app on a busy machine answers its supervisor late:
            # uvicorn's 5 s would kill it and start another, again and again.
            timeout_worker_healthcheck=WEB_PROCESS_START_SECONDS,
        )
        socket = config.bind_socket()
        try:
            Multiprocess(config, sockets=[socket]).run()
        finally:
            socket.close()
