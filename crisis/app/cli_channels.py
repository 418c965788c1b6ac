"""`tocsin channels check` and `tocsin sandbox` (registered by `crisis.app.cli`)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from channels.base import ChannelHealth
from channels.config import ChannelsConfig
from channels.registry import check_all
from channels.sandbox import DEFAULT_PORTS, Sandbox, SandboxPorts
from crisis.app.settings import Settings

app = typer.Typer(help="Canaux de diffusion : état et bac à sable.", no_args_is_help=True)


@app.callback()
def channels() -> None:
    """Canaux de diffusion (courriel, Telegram, X, Mastodon, Matrix/Tchap, SMS, webhooks)."""


def load_config() -> ChannelsConfig:
    """The real channel set of the application's settings (`TOCSIN_CHANNELS__…`)."""
    return Settings().channels


def _print(results: list[ChannelHealth]) -> None:
    for health in results:
        state = "OK" if health.ok else "ÉCHEC"
        mode = "bac à sable" if health.sandbox else "réel"
        typer.echo(f"{health.kind.value:9} {state:6} {mode:12} {health.detail}")
        for key, value in health.settings.items():
            if value:
                typer.echo(f"{'':9} {key} = {value}")


@app.command("check")
def check(
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Vérifie contre un bac à sable local éphémère.")
    ] = False,
) -> None:
    """Vérifie chaque canal configuré (identifiants masqués) ; code 1 si l'un échoue."""

    async def run() -> list[ChannelHealth]:
        if not sandbox:
            return await check_all(load_config())
        async with Sandbox() as running:
            return await check_all(running.config())

    results = asyncio.run(run())
    _print(results)
    configured = [h for h in results if h.detail != "Non configuré"]
    if not configured:
        typer.echo("Aucun canal configuré (variables TOCSIN_CHANNELS__…).")
    if any(not h.ok for h in configured):
        raise typer.Exit(1)


def sandbox(
    ephemeral: Annotated[
        bool, typer.Option("--ephemeral", help="Ports choisis par le système.")
    ] = False,
) -> None:
    """Lance les faux services (SMTP, Telegram, X, Mastodon, Matrix, SMS, webhooks) sur
    127.0.0.1 et affiche ce qu'ils reçoivent."""

    async def run() -> None:
        async with Sandbox(ports=SandboxPorts() if ephemeral else DEFAULT_PORTS) as running:
            for name, url in running.urls.items():
                typer.echo(f"{name:10} {url}")
            typer.echo(f"Page de suivi : {running.urls['dashboard']}/  (Ctrl-C pour arrêter)")
            seen = {name: 0 for name in running.states}
            while True:
                for name, state in running.states.items():
                    for message in state.received[seen[name] :]:
                        head = message.subject or (message.text.splitlines() or [""])[0][:60]
                        typer.echo(f"[{message.at:%H:%M:%S}] {name} → {message.recipient} : {head}")
                    seen[name] = len(state.received)
                await asyncio.sleep(0.5)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


TOP_LEVEL_COMMANDS = {"sandbox": sandbox}
