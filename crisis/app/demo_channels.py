"""The demo's channels: the local sandbox, in its own process, behind both channel sets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from typing import Protocol
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from channels.config import ChannelsConfig
from channels.sandbox import (
    DEFAULT_PORTS,
    LOOPBACK,
    SMS_REPLY_SECRET,
    TELEGRAM_REPLY_SECRET,
    Sandbox,
    sandbox_config,
)
from crisis.app.logs import configure as configure_logs
from crisis.app.settings import Settings
from crisis.app.worker import free_loopback_port

log = logging.getLogger("tocsin.demo")
START_SECONDS = 60.0
"""A spawned process imports the fakes first: seconds on a busy machine."""


async def start_sandbox() -> Sandbox:
    """The sandbox on the ports of `tocsin sandbox` when free, else on ephemeral ones."""
    sandbox = Sandbox(ports=DEFAULT_PORTS)
    try:
        await sandbox.start()
    except OSError:
        await sandbox.stop()
        log.warning("sandbox ports busy (is `tocsin sandbox` running?): ephemeral ports")
        sandbox = Sandbox()
        await sandbox.start()
    return sandbox


class SandboxHandle(Protocol):
    """What the demo needs of a running sandbox, in this process or in its own."""

    def config(self) -> ChannelsConfig: ...

    def webhook_url(self, name: str = "site") -> str: ...

    def answer_to(self, base_url: str) -> None: ...

    def publish_url(self, name: str, url: str) -> None: ...


@dataclass(frozen=True, slots=True)
class _Started:
    config: ChannelsConfig
    urls: dict[str, str]


def _sandbox_main(parent: Connection, json_logs: bool, level: str) -> None:
    # Ctrl-C in the terminal reaches the whole group: the parent stops the sandbox last.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logs(json_logs=json_logs, level=level)
    asyncio.run(_serve_sandbox(parent))


async def _serve_sandbox(parent: Connection) -> None:
    """Start the fakes, tell the parent where they are, then obey it until it goes."""
    sandbox = await start_sandbox()
    try:
        parent.send(_Started(sandbox.config(), dict(sandbox.urls)))
        while True:
            try:
                order = await asyncio.to_thread(parent.recv)
            except EOFError:  # the parent is gone
                return
            if order[0] == "answer_to":
                sandbox.answer_to(order[1])
            elif order[0] == "publish_url":
                sandbox.publish_url(order[1], order[2])
            else:
                return
    finally:
        await sandbox.stop()


class SandboxProcess:
    """The demo's sandbox in its own process: the fakes receiving thousands of messages (and
    parsing every e-mail) take no turn with page rendering, nor hold the web process' GIL, and
    they run the same whether the web is one process or several. The worker sends to them
    over loopback."""

    def __init__(self, *, json_logs: bool = True, level: str = "INFO") -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child_end = context.Pipe(duplex=True)
        self._process: SpawnProcess = context.Process(
            target=_sandbox_main, args=(child_end, json_logs, level), name="tocsin-sandbox"
        )
        self._child_end = child_end
        self._started: _Started | None = None

    @property
    def urls(self) -> dict[str, str]:
        assert self._started is not None, "the sandbox is not started"
        return self._started.urls

    def start(self) -> SandboxProcess:
        self._process.start()
        self._child_end.close()
        if not self._pipe.poll(START_SECONDS):
            self.stop()
            raise RuntimeError("the demo sandbox did not start")
        self._started = self._pipe.recv()
        return self

    def config(self) -> ChannelsConfig:
        assert self._started is not None, "the sandbox is not started"
        return self._started.config

    def webhook_url(self, name: str = "site") -> str:
        return f"{self.urls['webhook']}/hook/{name}"

    def answer_to(self, base_url: str) -> None:
        self._pipe.send(("answer_to", base_url))

    def publish_url(self, name: str, url: str) -> None:
        self.urls[name] = url
        self._pipe.send(("publish_url", name, url))

    def stop(self) -> None:
        if self._process.pid is None:
            return
        with contextlib.suppress(OSError):
            self._pipe.send(("stop",))
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._pipe.close()


class DemoSandbox(SandboxHandle, Protocol):
    """The sandbox `tocsin serve --demo` starts (its own) or joins (``--sandbox URL``)."""

    @property
    def urls(self) -> dict[str, str]: ...

    def start(self) -> DemoSandbox: ...

    def stop(self) -> None: ...


class SharedSandbox:
    """A sandbox another process runs (`tocsin sandbox`), joined through its page's address:
    several demo instances on one PostgreSQL then send to the same fakes, under one budget per
    account, as a prefecture's instances share one relay (channels/sandbox/control.py)."""

    def __init__(self, page_url: str) -> None:
        self._page = page_url.rstrip("/")
        self._urls: dict[str, str] | None = None

    @property
    def urls(self) -> dict[str, str]:
        assert self._urls is not None, "the sandbox is not joined"
        return self._urls

    def start(self) -> SharedSandbox:
        """Where the running sandbox's fakes listen (asked once)."""
        if self._urls is not None:
            return self
        try:
            answer = httpx.get(f"{self._page}/_sandbox/urls", timeout=5.0)
            answer.raise_for_status()
            urls = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SandboxUnreachable(self._page) from error
        if not isinstance(urls, dict) or not {"smtp", "telegram", "webhook"} <= urls.keys():
            raise SandboxUnreachable(self._page)
        self._urls = {str(name): str(url) for name, url in urls.items()}
        elsewhere = [url for url in self._urls.values() if not _on_loopback(url)]
        if elsewhere:  # a demo's messages never leave the machine
            raise SandboxUnreachable(
                self._page, f"il indique des services hors de la machine : {elsewhere[0]}"
            )
        return self

    def config(self) -> ChannelsConfig:
        return sandbox_config(self.urls)

    def webhook_url(self, name: str = "site") -> str:
        return f"{self.urls['webhook']}/hook/{name}"

    def answer_to(self, base_url: str) -> None:
        self._order({"answer_to": base_url})

    def publish_url(self, name: str, url: str) -> None:
        self.urls[name] = url
        self._order({"publish_url": {"name": name, "url": url}})

    def stop(self) -> None:
        """The sandbox is not this process': it runs on for the other instances."""

    def _order(self, order: dict[str, object]) -> None:
        try:
            httpx.post(f"{self._page}/_sandbox/orders", json=order, timeout=5.0).raise_for_status()
        except httpx.HTTPError as error:
            raise SandboxUnreachable(self._page) from error


def _on_loopback(url: str) -> bool:
    """An address of the CIP (no scheme) or a URL on this machine."""
    if ":" not in url:
        return True
    return urlsplit(url).hostname in LOOPBACK


class SandboxUnreachable(Exception):
    """No sandbox answers at the address given to ``--sandbox``, or not a local one."""

    def __init__(self, page_url: str, why: str = "") -> None:
        super().__init__(
            f"le bac à sable de {page_url} est refusé : {why}"
            if why
            else f"aucun bac à sable ne répond à {page_url} (lancez « tocsin sandbox » d'abord)"
        )


def with_sandbox(settings: Settings, sandbox: SandboxHandle) -> Settings:
    """A demo has no real recipient: the real and the exercise sets both point at the fakes,
    and the replies simulated on the sandbox page come back to this Tocsin (both sets).

    E-mail is paced as configured (`TOCSIN_CHANNELS__SMTP__RATE_PER_SECOND`, 50 messages/s by
    default): the demo's fan-out speed is that setting, not the fake's."""
    config = sandbox.config()
    if settings.channels.smtp is not None and config.smtp is not None:
        rate = settings.channels.smtp.rate_per_second
        config = config.model_copy(
            update={"smtp": config.smtp.model_copy(update={"rate_per_second": rate})}
        )
    accounts = demo_public_accounts(sandbox)
    sandbox.answer_to(settings.base_url)
    cip_port = settings.cip_smtp_port or free_loopback_port()  # the CIP's inbox, by the worker
    sandbox.publish_url("cip_inbox", f"smtp://{settings.cip_smtp_host}:{cip_port}")
    sandbox.publish_url("cip_address", settings.cip_address)
    telegram, sms = SecretStr(TELEGRAM_REPLY_SECRET), SecretStr(SMS_REPLY_SECRET)
    return settings.model_copy(
        update={
            "channels": config,
            "exercise_channels": config,
            "cip_smtp_port": cip_port,
            "inbound_telegram_secret": telegram,
            "exercise_inbound_telegram_secret": telegram,
            "inbound_sms_secret": sms,
            "exercise_inbound_sms_secret": sms,
            "public_accounts": settings.public_accounts or accounts,
            "exercise_public_accounts": settings.exercise_public_accounts or accounts,
            "contact_phones": settings.contact_phones or DEMO_PHONES,
        }
    )


# Numbers ARCEP reserves for fiction (03 53 01 xx xx): the demo never names a real line.
DEMO_PHONES = {
    "telephone_elus": "03 53 01 00 10",
    "contact_presse": "03 53 01 00 20",
    "numero_unique": "03 53 01 00 00",
}


def demo_public_accounts(sandbox: SandboxHandle) -> dict[str, str]:
    """The prefecture's public accounts, as the sandbox plays them."""
    return {
        "x": "@Prefet80",
        "mastodon": "@prefet80",
        "telegram": "@prefet80_alertes",
        "webhook": sandbox.webhook_url("site-prefecture"),
    }
