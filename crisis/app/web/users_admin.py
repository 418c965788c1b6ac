"""« Utilisateurs »: an administrator manages the accounts (every page and form is admin-only).

List, create (the one-time password shown once, in the answer only), change roles and account
e-mail, reset the one-time password, disable (sessions and API tokens end), revoke a token.
One's own password stays on « Mon compte ».
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crisis import accounts, api_tokens, users
from crisis.actors import ROLE_LABELS, Actor, Role
from crisis.app.auth import ClockDep, CsrfChecked, CurrentActor, DbDep
from crisis.app.errors import journal_refusal
from crisis.app.paths import RowId
from crisis.app.web.templating import flash, render
from crisis.errors import DomainError, Forbidden, NotFound

router = APIRouter(include_in_schema=False)
ACTION = "gérer les utilisateurs"
RolesField = Annotated[list[str], Form(max_length=len(Role))]


def _require(actor: Actor) -> None:
    actor.require(Role.ADMIN, action=ACTION)


async def _refusal(request: Request, error: DomainError) -> str:
    """A refusal to show on the page, journaled like any (a 403 goes to the error page)."""
    if isinstance(error, Forbidden):
        raise error
    if error.journaled:
        await journal_refusal(request, code=error.code, message=error.message, status=error.status)
    return error.message


async def _list_page(
    request: Request, db: DbDep, status: int = 200, **context: Any
) -> HTMLResponse:
    async with db.read() as session:
        users = await accounts.all_users(session)
    return render(request, "users/index.html", status, users=users, roles=ROLE_LABELS, **context)


@router.get("/utilisateurs")
async def users_page(request: Request, actor: CurrentActor, db: DbDep) -> HTMLResponse:
    _require(actor)
    return await _list_page(request, db, form={"roles": []})


@router.post("/utilisateurs", dependencies=[CsrfChecked])
async def create_user(
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    login: Annotated[str, Form(max_length=64)],
    display_name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    roles: RolesField = [],  # noqa: B006 - FastAPI copies form defaults
) -> HTMLResponse:
    _require(actor)
    login = login.strip().lower()
    form = {"login": login, "display_name": display_name, "email": email, "roles": roles}
    try:
        async with db.transaction() as session:
            user, password = await accounts.create_user(
                session,
                actor=actor,
                login=login,
                roles=roles,
                now=clock.now(),
                display_name=display_name.strip(),
            )
            if email.strip():
                await accounts.set_email(
                    session, actor=actor, user=user, email=email, now=clock.now()
                )
    except DomainError as error:
        message = await _refusal(request, error)
        return await _list_page(request, db, error.status, error=message, form=form)
    # Shown once, in this answer only: never stored in the cookie like a flash message.
    return await _list_page(request, db, created=login, one_time=password, form={"roles": []})


async def _user(db: DbDep, user_id: int) -> users.User:
    async with db.read() as session:
        user = await session.get(users.User, user_id)
    if user is None:
        raise NotFound("user_not_found", f"Aucun utilisateur n° {user_id}.")
    return user


async def _user_page(
    request: Request, db: DbDep, user_id: int, status: int = 200, **context: Any
) -> HTMLResponse:
    user = await _user(db, user_id)
    async with db.read() as session:
        tokens = await api_tokens.tokens_of(session, user_id=user_id)
    return render(
        request, "users/detail.html", status, user=user, tokens=tokens, roles=ROLE_LABELS, **context
    )


@router.get("/utilisateurs/{user_id}")
async def user_page(
    user_id: RowId, request: Request, actor: CurrentActor, db: DbDep
) -> HTMLResponse:
    _require(actor)
    return await _user_page(request, db, user_id)


async def _change(request: Request, db: DbDep, user_id: int, done: str, change: Any) -> Response:
    """Run one administrator's change; a refusal is shown on the user's page, nothing changed."""
    try:
        async with db.transaction() as session:
            await change(session)
    except DomainError as error:
        message = await _refusal(request, error)
        return await _user_page(request, db, user_id, error.status, error=message)
    flash(request, "success", done)
    return RedirectResponse(f"/utilisateurs/{user_id}", status_code=303)


@router.post("/utilisateurs/{user_id}/roles", dependencies=[CsrfChecked])
async def set_roles(
    user_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    roles: RolesField = [],  # noqa: B006 - FastAPI copies form defaults
) -> Response:
    _require(actor)
    user = await _user(db, user_id)

    async def change(session: Any) -> None:
        await accounts.set_roles(
            session, actor=actor, login=user.login, roles=roles, now=clock.now()
        )

    return await _change(request, db, user_id, "Rôles enregistrés.", change)


@router.post("/utilisateurs/{user_id}/courriel", dependencies=[CsrfChecked])
async def set_email(
    user_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    _require(actor)
    await _user(db, user_id)

    async def change(session: Any) -> None:
        user = await session.get(users.User, user_id)
        await accounts.set_email(session, actor=actor, user=user, email=email, now=clock.now())

    done = "Courriel du compte enregistré." if email.strip() else "Courriel du compte effacé."
    return await _change(request, db, user_id, done, change)


@router.post("/utilisateurs/{user_id}/mot-de-passe", dependencies=[CsrfChecked])
async def reset_password(
    user_id: RowId, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> HTMLResponse:
    _require(actor)
    user = await _user(db, user_id)
    async with db.transaction() as session:
        password = await accounts.reset_password(
            session, actor=actor, login=user.login, now=clock.now()
        )
    return await _user_page(request, db, user_id, one_time=password)


@router.post("/utilisateurs/{user_id}/desactivation", dependencies=[CsrfChecked])
async def deactivate(
    user_id: RowId, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> Response:
    _require(actor)
    user = await _user(db, user_id)

    async def change(session: Any) -> None:
        await accounts.deactivate(session, actor=actor, login=user.login, now=clock.now())

    done = f"Compte « {user.login} » désactivé : ses sessions et ses jetons d'API sont révoqués."
    return await _change(request, db, user_id, done, change)


@router.post("/utilisateurs/{user_id}/jetons/{token_id}/revocation", dependencies=[CsrfChecked])
async def revoke_token(
    user_id: RowId,
    token_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
) -> Response:
    _require(actor)
    async with db.read() as session:
        token = await session.get(api_tokens.ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound("token_not_found", "Jeton d'API introuvable.")

    async def change(session: Any) -> None:
        await api_tokens.revoke_token(session, actor=actor, token_id=token_id, now=clock.now())

    return await _change(request, db, user_id, "Jeton d'API révoqué.", change)
