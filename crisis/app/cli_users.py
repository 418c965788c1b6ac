"""`tocsin users …`: accounts, one-time passwords and API tokens, as an administrator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import accounts, api_tokens
from crisis.actors import SYSTEM
from crisis.app import bootstrap
from crisis.app.cli_common import DbOption, fail, settings_for
from crisis.app.clock import SystemClock
from crisis.app.db import Database
from crisis.errors import DomainError

app = typer.Typer(help="Utilisateurs et jetons d'API.", no_args_is_help=True)


def _as_admin(db: str | None, change: Callable[[AsyncSession], Awaitable[str]]) -> str:
    """Run one administrator's change on the users, with the usual exit codes on refusal."""
    settings = settings_for(db)

    async def run() -> str:
        database = Database.from_url(settings.database_url)
        try:
            await bootstrap.prepare(database, settings.database_url)
            async with database.transaction() as session:
                return await change(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except DomainError as error:
        fail(f"Erreur : {error.message}", 2 if error.status in (400, 404, 422) else 1)
        raise  # unreachable: fail exits


@app.command("add")
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

    async def create(session: AsyncSession) -> str:
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

    password = _as_admin(db, create)
    typer.echo(f"Utilisateur « {login} » créé. Mot de passe à usage unique :")
    typer.echo(password)


@app.command("reset")
def users_reset(login: str, db: DbOption = None) -> None:
    """Émet un nouveau mot de passe à usage unique ; les sessions de l'utilisateur sont fermées."""
    password = _as_admin(
        db,
        lambda session: accounts.reset_password(
            session, actor=SYSTEM, login=login, now=SystemClock().now()
        ),
    )
    typer.echo(f"Nouveau mot de passe à usage unique pour « {login} » :")
    typer.echo(password)


@app.command("disable")
def users_disable(login: str, db: DbOption = None) -> None:
    """Désactive un utilisateur : ses sessions et ses jetons d'API cessent aussitôt."""

    async def change(session: AsyncSession) -> str:
        await accounts.deactivate(session, actor=SYSTEM, login=login, now=SystemClock().now())
        return login

    _as_admin(db, change)
    typer.echo(f"Utilisateur « {login} » désactivé ; ses sessions et jetons sont révoqués.")


@app.command("email")
def users_email(
    login: str,
    address: Annotated[str, typer.Argument(help="Le courriel ; vide pour l'effacer.")],
    db: DbOption = None,
) -> None:
    """Renseigne le courriel d'un compte : ses tests de communiqué ne vont que là (et vers sa
    fiche « Services de l'État » de l'annuaire qui porte ce courriel)."""

    async def change(session: AsyncSession) -> str:
        user = await accounts.user_named(session, login=login)
        await accounts.set_email(
            session, actor=SYSTEM, user=user, email=address, now=SystemClock().now()
        )
        return login

    _as_admin(db, change)
    typer.echo(f"Courriel du compte « {login} » : {address.strip() or 'effacé'}.")


@app.command("token")
def users_token(
    login: str,
    db: DbOption = None,
    label: Annotated[str, typer.Option(help="Usage du jeton.")] = "cli",
) -> None:
    """Crée un jeton d'API pour l'utilisateur ; le jeton est seul sur la dernière ligne."""
    settings = settings_for(db)

    async def run() -> str | None:
        database = Database.from_url(settings.database_url)
        try:
            await bootstrap.prepare(database, settings.database_url)
            async with database.transaction() as session:
                user = await accounts.user_by_login(session, login=login)
                if user is None:
                    return None
                return await api_tokens.issue_token(
                    session, actor=SYSTEM, user=user, now=SystemClock().now(), label=label
                )
        finally:
            await database.dispose()

    token = asyncio.run(run())
    if token is None:
        fail(f"Erreur : aucun utilisateur « {login} ».", 2)
        return
    typer.echo(f"Jeton d'API pour « {login} » (il ne sera plus affiché) :")
    typer.echo(token)
