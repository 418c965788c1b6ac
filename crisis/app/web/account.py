"""« Mon compte »: one's password, open sessions and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crisis import api_tokens, passwords, sessions, users
from crisis.actors import Actor
from crisis.app import auth
from crisis.app.auth import ClockDep, CsrfChecked, CurrentActor, DbDep, PendingActor, SettingsDep
from crisis.app.paths import RowId
from crisis.app.web.templating import flash, render
from crisis.errors import DomainError

router = APIRouter(include_in_schema=False)
PASSWORD_LIMIT = 256


async def _account_page(
    request: Request,
    actor: Actor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    assert actor.user_id is not None
    policy = auth.session_policy(settings)
    async with db.read() as session:
        open_sessions = await sessions.active_for(
            session, user_id=actor.user_id, now=clock.now(), policy=policy
        )
        tokens = await api_tokens.tokens_of(session, user_id=actor.user_id)
    return render(
        request,
        "account.html",
        status,
        sessions=open_sessions,
        current_session=getattr(request.state, "session_id", None),
        tokens=tokens,
        min_length=passwords.MIN_PASSWORD_LENGTH,
        **context,
    )


@router.get("/mon-compte")
async def account_page(
    request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    return await _account_page(request, actor, db, clock, settings)


async def _must_change(db: DbDep, actor: Actor) -> bool:
    async with db.read() as session:
        user = await session.get(users.User, actor.user_id)
    return user is not None and user.must_change_password


@router.get("/mon-compte/mot-de-passe")
async def password_page(request: Request, actor: PendingActor, db: DbDep) -> Response:
    if not await _must_change(db, actor):
        return RedirectResponse("/mon-compte#mot-de-passe", status_code=303)
    return render(request, "password.html", min_length=passwords.MIN_PASSWORD_LENGTH)


@router.post("/mon-compte/mot-de-passe", dependencies=[CsrfChecked])
async def password_submit(
    request: Request,
    actor: PendingActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    new_password: Annotated[str, Form(max_length=PASSWORD_LIMIT)],
    confirm_password: Annotated[str, Form(max_length=PASSWORD_LIMIT)],
    current_password: Annotated[str, Form(max_length=PASSWORD_LIMIT)] = "",
) -> Response:
    forced = await _must_change(db, actor)
    try:
        async with db.transaction() as session:
            await passwords.change_password(
                session,
                actor=actor,
                current=current_password,
                new=new_password,
                confirm=confirm_password,
                now=clock.now(),
                keep_session=getattr(request.state, "session_id", None),
            )
    except DomainError as error:
        errors = error.details if isinstance(error.details, list) else [error.message]
        if forced:
            return render(
                request,
                "password.html",
                422,
                errors=errors,
                min_length=passwords.MIN_PASSWORD_LENGTH,
            )
        return await _account_page(request, actor, db, clock, settings, 422, errors=errors)
    flash(request, "success", "Mot de passe changé ; vos autres sessions sont fermées.")
    return RedirectResponse("/" if forced else "/mon-compte", status_code=303)


@router.post("/mon-compte/sessions/{session_id}/revocation", dependencies=[CsrfChecked])
async def revoke_session(
    session_id: RowId, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> Response:
    async with db.transaction() as session:
        await sessions.revoke(session, actor=actor, session_id=session_id, now=clock.now())
    if session_id == getattr(request.state, "session_id", None):
        request.session.clear()
        return RedirectResponse("/connexion", status_code=303)
    flash(request, "success", "Session révoquée.")
    return RedirectResponse("/mon-compte#sessions", status_code=303)


@router.post("/mon-compte/jetons", dependencies=[CsrfChecked])
async def create_token(
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    label: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    async with db.transaction() as session:
        user = await session.get(users.User, actor.user_id)
        assert user is not None
        token = await api_tokens.issue_token(
            session, actor=actor, user=user, now=clock.now(), label=label.strip() or "web"
        )
    # Shown once, in this answer only: never stored in the cookie like a flash message.
    return await _account_page(request, actor, db, clock, settings, new_token=token)


@router.post("/mon-compte/jetons/{token_id}/revocation", dependencies=[CsrfChecked])
async def revoke_token(
    token_id: RowId, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> Response:
    async with db.transaction() as session:
        await api_tokens.revoke_token(session, actor=actor, token_id=token_id, now=clock.now())
    flash(request, "success", "Jeton d'API révoqué : il n'ouvre plus l'API.")
    return RedirectResponse("/mon-compte#jetons", status_code=303)
