"""A real Tocsin process on loopback, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from crisis.app.db import Database
from crisis.users import User
from tests.support import FrozenClock, TestUser, make_user

CHROMIUM = os.environ.get("TOCSIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class LiveServer:
    url: str
    db_url: str
    users: dict[str, str]
    cip_smtp_port: int = 0  # the CIP's inbox, served by the worker (written requests)
    tokens: dict[str, str] = field(default_factory=dict)  # API tokens of `users`, made once

    def add_user(self, login: str, *roles: str, email: str = "") -> str:
        """A user of the live server, ready to log in (`users[login]`); returns their API token.

        Made in this process: a `tocsin users add` process and the first login that replaces
        its one-time password cost seconds of processor time each. The password's hash has the
        tests' small argon2 cost (tests/conftest.py), which the server verifies as cheaply;
        the one-time password path has its own tests (test_account_page.py)."""
        made = _off_the_main_thread(_made_user(self.db_url, login, roles, email))
        self.users[login], self.tokens[login] = made.password, made.token
        return made.token

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "crisis", *args, "--db", self.db_url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


def _off_the_main_thread(work: Coroutine[Any, Any, TestUser]) -> TestUser:
    """`asyncio.run` on a thread of its own: Playwright's sync API may be running an event loop
    on the main one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


async def _made_user(db_url: str, login: str, roles: tuple[str, ...], email: str) -> TestUser:
    database = Database.from_url(db_url)
    try:
        made = await make_user(database, FrozenClock(datetime.now(UTC)), login, *roles)
        if email:
            async with database.transaction() as session:
                user = await session.get(User, made.id)
                assert user is not None
                user.email = email
        return made
    finally:
        await database.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'tocsin.db'}"
    port = _free_port()
    server = LiveServer(f"http://127.0.0.1:{port}", db_url, {}, _free_port())
    server.cli("db", "upgrade")
    for login, roles in {
        "prefet": ["prefect", "validator"],
        "communicant": ["communicator"],
        "valideur": ["validator"],
        "formateur": ["trainer"],
        "operateur": ["operator"],
        "admin": ["admin"],
    }.items():
        server.add_user(login, *roles)
    log = (Path(str(tmp_path_factory.getbasetemp())) / "live-server.log").open("w")
    # No TOCSIN_BASE_URL: the server writes its links on the port it serves.
    env = {k: v for k, v in os.environ.items() if k != "TOCSIN_BASE_URL"} | {
        "TOCSIN_SECRET_KEY": "browser-tests-secret",
        "TOCSIN_TICK_SECONDS": "0.3",
        "TOCSIN_CIP_SMTP_PORT": str(server.cip_smtp_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "crisis", "serve", "--db", db_url, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + 120  # a loaded machine takes its time to import it all
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("Tocsin did not start; see live-server.log")
    yield server
    process.terminate()
    process.wait(timeout=10)
    log.close()


class _Chromium:
    """One Chromium per process, started by the first browser test and stopped after the last
    one in a row: Playwright's sync API keeps an event loop running in the main thread while it
    lasts, and an xdist worker may run other tests (which call `asyncio.run`) afterwards."""

    playwright: Playwright | None = None
    browser: Browser | None = None

    @classmethod
    def start(cls) -> Browser:
        if cls.browser is None:
            cls.playwright = sync_playwright().start()
            cls.browser = cls.playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
        return cls.browser

    @classmethod
    def stop(cls) -> None:
        if cls.browser is not None:
            cls.browser.close()
            cls.browser = None
        if cls.playwright is not None:
            cls.playwright.stop()
            cls.playwright = None


@pytest.fixture
def browser() -> Browser:
    return _Chromium.start()


def _is_browser_test(item: pytest.Item | None) -> bool:
    return item is not None and item.get_closest_marker("browser") is not None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        yield
    finally:
        if not _is_browser_test(nextitem):
            _Chromium.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page: Page, server: LiveServer, login: str) -> None:
    page.goto(f"{server.url}/connexion")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(server.users[login])
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{server.url}/")
