"""`tocsin`: the command line. Exit codes: 0 success, 1 failure, 2 bad usage or input."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Annotated

import typer
import uvicorn
from prometheus_client import CollectorRegistry

from crisis import accounts, journal
from crisis.actors import SYSTEM
from crisis.app import bootstrap, demo_scenario, migrate
from crisis.app.background import build_background
from crisis.app.clock import SystemClock, clock_from_environment
from crisis.app.db import Database
from crisis.app.demo_channels import start_sandbox, with_sandbox
from crisis.app.dispatch import build_dispatcher
from crisis.app.factory import create_app
from crisis.app.library import playbook_library
from crisis.app.logs import configure as configure_logs
from crisis.app.settings import Settings
from crisis.errors import DomainError

app = typer.Typer(help="Tocsin — communication d'urgence de la préfecture.", no_args_is_help=True)
db_app = typer.Typer(help="Base de données.", no_args_is_help=True)
users_app = typer.Typer(help="Utilisateurs et jetons d'API.", no_args_is_help=True)
journal_app = typer.Typer(help="Main courante.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(journal_app, name="journal")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="URL de la base (défaut : TOCSIN_DATABASE_URL, sinon sqlite:///./tocsin.db)."
    ),
]


def _settings(db: str | None, **overrides: object) -> Settings:
    settings = Settings()
    updates = {k: v for k, v in overrides.items() if v is not None}
    if db:
        updates["database_url"] = db
    return settings.model_copy(update=updates)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Bac à sable, annuaire fictif, comptes de démo.")
    ] = False,
) -> None:
    """API, interface web, horloges et envois dans un seul processus."""
    settings = _settings(db, demo=demo or None)
    configure_logs(json_logs=settings.json_logs, level=settings.log_level)
    asyncio.run(_serve(settings, host, port))


async def _serve(settings: Settings, host: str, port: int) -> None:
    clock = clock_from_environment(dict(os.environ))
    database = Database.from_url(settings.database_url)
    await bootstrap.prepare(database, settings.database_url)
    if settings.demo:
        logins = await bootstrap.demo_users(database, clock)
        from crisis import directory  # the synthetic Somme directory and roster

        async with database.transaction() as session:
            await directory.load_demo(session, now=clock.now())
        typer.echo(f"\nTocsin — démonstration sur http://{host}:{port}")
        typer.echo("Comptes de démonstration :")
        for entry in logins:
            typer.echo(f"  {entry.login:<12} {entry.password:<20} {', '.join(entry.roles)}")
        typer.echo("")
    sandbox = await start_sandbox() if settings.demo else None
    if sandbox is not None:
        settings = with_sandbox(settings, sandbox)
        typer.echo(f"Messages envoyés (bac à sable des canaux) : {sandbox.urls['dashboard']}/")
        crisis_id = await demo_scenario.play_once(database, settings, now=clock.now())
        typer.echo(f"Événement de démonstration : http://{host}:{port}/evenements/{crisis_id}")
        typer.echo("")
    await asyncio.to_thread(playbook_library)  # checked once, before the first declaration
    registry = CollectorRegistry()
    dispatcher = build_dispatcher(settings, database, clock, registry=registry)
    background = build_background(
        database,
        clock,
        tick_seconds=settings.tick_seconds,
        settings=settings,
        dispatcher=dispatcher,
    )
    web = create_app(
        settings,
        clock=clock,
        database=database,
        background=background.running,
        metrics_registry=registry,
    )
    server = uvicorn.Server(
        uvicorn.Config(web, host=host, port=port, log_config=None, access_log=False)
    )
    try:
        await server.serve()
    finally:
        if sandbox is not None:
            await sandbox.stop()
        await database.dispose()


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Applique les migrations et charge la géographie de la Somme si la base est vide."""
    settings = _settings(db)

    async def run() -> None:
        database = Database.from_url(settings.database_url)
        try:
            await bootstrap.prepare(database, settings.database_url)
        finally:
            await database.dispose()

    asyncio.run(run())
    typer.echo(f"Base à jour (révision {migrate.head_revision()}).")


@users_app.command("add")
def users_add(
    login: str,
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            help="Rôle (répétable) : prefect, validator, communicator, trainer, operator, admin.",
        ),
    ],
    db: DbOption = None,
    name: Annotated[str, typer.Option(help="Nom affiché.")] = "",
    email: Annotated[
        str, typer.Option(help="Courriel du compte (où ses tests de communiqué peuvent aller).")
    ] = "",
) -> None:
    """Crée un utilisateur et affiche son mot de passe à usage unique."""
    settings = _settings(db)

    async def run() -> str:
        database = Database.from_url(settings.database_url)
        try:
            await bootstrap.prepare(database, settings.database_url)
            async with database.transaction() as session:
                user, password = await accounts.create_user(
                    session,
                    actor=SYSTEM,
                    login=login,
                    roles=role,
                    now=SystemClock().now(),
                    display_name=name,
                )
                if email:
                    await accounts.set_email(
                        session, actor=SYSTEM, user=user, email=email, now=SystemClock().now()
                    )
            return password
        finally:
            await database.dispose()

    try:
        password = asyncio.run(run())
    except DomainError as error:
        _fail(f"Erreur : {error.message}", 2 if error.status in (400, 422) else 1)
        return
    typer.echo(f"Utilisateur « {login} » créé. Mot de passe à usage unique :")
    typer.echo(password)


@users_app.command("email")
def users_email(
    login: str,
    address: Annotated[str, typer.Argument(help="Le courriel ; vide pour l'effacer.")],
    db: DbOption = None,
) -> None:
    """Renseigne le courriel d'un compte : ses tests de communiqué ne vont que là (et vers sa
    fiche « Services de l'État » de l'annuaire qui porte ce courriel)."""
    settings = _settings(db)

    async def run() -> bool:
        database = Database.from_url(settings.database_url)
        try:
            await bootstrap.prepare(database, settings.database_url)
            async with database.transaction() as session:
                user = await accounts.user_by_login(session, login=login)
                if user is None:
                    return False
                await accounts.set_email(
                    session, actor=SYSTEM, user=user, email=address, now=SystemClock().now()
                )
                return True
        finally:
            await database.dispose()

    try:
        found = asyncio.run(run())
    except DomainError as error:
        _fail(f"Erreur : {error.message}", 2)
        return
    if not found:
        _fail(f"Erreur : aucun utilisateur « {login} ».", 2)
        return
    typer.echo(f"Courriel du compte « {login} » : {address.strip() or 'effacé'}.")


@users_app.command("token")
def users_token(
    login: str,
    db: DbOption = None,
    label: Annotated[str, typer.Option(help="Usage du jeton.")] = "cli",
) -> None:
    """Crée un jeton d'API pour l'utilisateur ; le jeton est seul sur la dernière ligne."""
    settings = _settings(db)

    async def run() -> str | None:
        database = Database.from_url(settings.database_url)
        try:
            await bootstrap.prepare(database, settings.database_url)
            async with database.transaction() as session:
                user = await accounts.user_by_login(session, login=login)
                if user is None:
                    return None
                return await accounts.issue_token(
                    session, actor=SYSTEM, user=user, now=SystemClock().now(), label=label
                )
        finally:
            await database.dispose()

    token = asyncio.run(run())
    if token is None:
        _fail(f"Erreur : aucun utilisateur « {login} ».", 2)
        return
    typer.echo(f"Jeton d'API pour « {login} » (il ne sera plus affiché) :")
    typer.echo(token)


@journal_app.command("verify")
def journal_verify(
    db: DbOption = None,
    crisis: Annotated[int | None, typer.Option("--crisis", help="N° d'événement.")] = None,
) -> None:
    """Recalcule la chaîne d'empreintes ; échoue au premier maillon rompu."""
    settings = _settings(db)

    async def run() -> journal.VerifyReport:
        database = Database.from_url(settings.database_url)
        try:
            async with database.read() as session:
                return await journal.verify(session, crisis_id=crisis)
        finally:
            await database.dispose()

    report = asyncio.run(run())
    if report.broken is None:
        typer.echo(
            f"Main courante intègre : {report.checked} entrée(s) vérifiée(s) ({report.chain})."
        )
        return
    where = f"entrée n° {report.broken.entry_id}" if report.broken.entry_id else "fin de chaîne"
    _fail(f"Main courante altérée ({report.chain}) : {where} — {report.broken.reason}.", 1)


def _register_extensions() -> None:
    """Command groups that live beside their capability."""
    import importlib

    for module, name in (
        ("crisis.app.cli_playbooks", "playbooks"),
        ("crisis.app.cli_channels", "channels"),
        ("crisis.app.cli_contacts", "contacts"),
    ):
        try:
            extension = importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
            continue
        app.add_typer(extension.app, name=name)
        for group_name, group in getattr(extension, "EXTRA_GROUPS", {}).items():
            app.add_typer(group, name=group_name)
        for command_name, command in getattr(extension, "TOP_LEVEL_COMMANDS", {}).items():
            app.command(command_name)(command)


def main() -> None:
    _register_extensions()
    app(prog_name="tocsin")


if __name__ == "__main__":
    main()
    sys.exit(0)
