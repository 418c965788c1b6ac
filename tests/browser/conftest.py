"""A real Tocsin process on loopback, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

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

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "crisis", *args, "--db", self.db_url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


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
        role_args = [a for r in roles for a in ("--role", r)]
        out = server.cli("users", "add", login, *role_args)
        server.users[login] = out.stdout.strip().splitlines()[-1]
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
    for login, one_time in list(server.users.items()):
        server.users[login] = choose_password(server, login, one_time)
    yield server
    process.terminate()
    process.wait(timeout=10)
    log.close()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def choose_password(server: LiveServer, login: str, one_time: str) -> str:
    """What every new user does first: log in with the one-time password, choose their own."""
    chosen = f"{login}-mot-de-passe-de-test"
    with httpx.Client(base_url=server.url) as http:
        csrf = _CSRF.search(http.get("/connexion").text)
        assert csrf is not None
        data = {"login": login, "password": one_time, "csrf_token": csrf.group(1)}
        assert http.post("/connexion", data=data).status_code == 303
        form = http.get("/mon-compte/mot-de-passe")
        csrf = _CSRF.search(form.text)
        assert csrf is not None
        data = {"new_password": chosen, "confirm_password": chosen, "csrf_token": csrf.group(1)}
        answer = http.post("/mon-compte/mot-de-passe", data=data)
        assert answer.status_code == 303 and answer.headers["location"] == "/", answer.text
    return chosen


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
