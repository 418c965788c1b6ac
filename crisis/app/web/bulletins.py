"""A bulletin's page and its workflow buttons: submit, approve, reject, publish, test.

What each button may do is the domain's `permissions`; each button is one route that makes one
service call (the same as the API's) and comes back to the page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor, Role
from crisis.app import actions
from crisis.app.actions import Caller, CallerDep
from crisis.app.auth import CsrfChecked, CurrentActor, DbDep, SettingsDep
from crisis.app.paths import RowId
from crisis.app.policies import channel_policy
from crisis.app.settings import Settings
from crisis.app.web.templating import flash, render
from crisis.bulletin import public, self_test, tracking
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.recipients import Recipients, recipients
from crisis.cell import crises
from crisis.errors import InvalidInput
from crisis.vocabulary import BulletinStatus

router = APIRouter(include_in_schema=False)
Step = Callable[[AsyncSession], Awaitable[object]]


async def _bulletin_page(
    request: Request,
    db: DbDep,
    actor: Actor,
    settings: Settings,
    bulletin_id: int,
    *,
    problems: list[Any] | None = None,
) -> HTMLResponse:
    policy = channel_policy(settings)
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        crisis = await crises.get(session, crisis_id=bulletin.crisis_id)
        own = await self_test.own_channels(session, actor=actor, policy=policy)
        counted = await tracking.counts(session, bulletin_id=bulletin_id)
        may = bulletins.permissions(actor, bulletin)
        reached = (
            await recipients(session, bulletin=bulletin, policy=policy) if may.publish else None
        )
    return render(
        request,
        "bulletins/bulletin.html",
        status=422 if problems else 200,
        bulletin=bulletin,
        crisis=crisis,
        exercise=crisis.is_exercise,
        renderings=bulletins.renderings(bulletin, policy=policy),
        may=may,
        recipients=reached,
        problems=problems or [],
        own_channels=own,
        own_sources=self_test.SOURCE_LABELS,
        public_url=public.url_of(bulletin, base_url=policy.base_url),
        counted=counted,
        fr_alert=Role.PREFECT in actor.roles and not bulletin.exercise,
    )


@router.get("/communiques/{bulletin_id}")
async def bulletin_page(
    bulletin_id: RowId, request: Request, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> HTMLResponse:
    return await _bulletin_page(request, db, actor, settings, bulletin_id)


async def _step(
    request: Request,
    db: DbDep,
    caller: Caller,
    bulletin_id: int,
    step: Step,
    done: str | Callable[[Any], tuple[str, str]],
    to: str = "",
) -> Response:
    """Run one workflow step and go to `to` (the bulletin's page) with `done` (a message, or
    the level and message for the step's outcome); refused for its content, the page says why."""
    try:
        async with db.transaction() as session:
            outcome = await step(session)
    except InvalidInput as error:
        details = error.details if isinstance(error.details, list) else []
        problems = details or [{"message": error.message}]
        return await _bulletin_page(
            request, db, caller.actor, caller.settings, bulletin_id, problems=problems
        )
    level, text = done(outcome) if callable(done) else ("success", done.format(outcome=outcome))
    flash(request, level, text)
    return RedirectResponse(to or f"/communiques/{bulletin_id}", status_code=303)


@router.post("/communiques/{bulletin_id}/soumettre", dependencies=[CsrfChecked])
async def submit(bulletin_id: RowId, request: Request, caller: CallerDep, db: DbDep) -> Response:
    step: Step = lambda s: actions.submit(s, caller, bulletin_id)  # noqa: E731
    return await _step(request, db, caller, bulletin_id, step, "Communiqué soumis à validation.")


@router.post("/communiques/{bulletin_id}/valider", dependencies=[CsrfChecked])
async def approve(
    bulletin_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    content_hash: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The approval binds the text the page showed (its hash, a hidden field)."""
    step: Step = lambda s: actions.review(s, caller, bulletin_id, seen_hash=content_hash)  # noqa: E731
    done = "Communiqué validé : il peut être publié."
    return await _step(request, db, caller, bulletin_id, step, done)


@router.post("/communiques/{bulletin_id}/rejeter", dependencies=[CsrfChecked])
async def reject(
    bulletin_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    step: Step = lambda s: actions.review(s, caller, bulletin_id, reject=reason)  # noqa: E731
    done = "Communiqué rejeté : il revient en brouillon avec le motif."
    return await _step(request, db, caller, bulletin_id, step, done)


@router.post("/communiques/{bulletin_id}/test", dependencies=[CsrfChecked])
async def send_test(
    bulletin_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    target: Annotated[str, Form(max_length=340)] = "",
) -> Response:
    """A test to one of the sender's own channels, named `channel:address` by the form."""
    channel, _, address = target.partition(":")

    async def step(session: AsyncSession) -> str:
        sent = await actions.send_test(
            session, caller, bulletin_id, channel=channel or "email", address=address or None
        )
        return sent.address

    done = "Test envoyé à {outcome}, marqué « TEST — non validé »."
    return await _step(request, db, caller, bulletin_id, step, done)


async def _recipients(db: DbDep, settings: Settings, bulletin: bulletins.Bulletin) -> Recipients:
    async with db.read() as session:
        return await recipients(session, bulletin=bulletin, policy=channel_policy(settings))


@router.get("/communiques/{bulletin_id}/publier")
async def publish_page(
    bulletin_id: RowId, request: Request, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> Response:
    """The confirmation before publishing: who will receive it, counted as the fan-out will."""
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        crisis = await crises.get(session, crisis_id=bulletin.crisis_id)
    if not bulletins.permissions(actor, bulletin).publish:
        flash(request, "info", "Ce communiqué ne peut pas être publié par vous maintenant.")
        return RedirectResponse(f"/communiques/{bulletin_id}", status_code=303)
    return render(
        request,
        "bulletins/publish_confirm.html",
        bulletin=bulletin,
        crisis=crisis,
        exercise=crisis.is_exercise,
        recipients=await _recipients(db, settings, bulletin),
    )


@router.post("/communiques/{bulletin_id}/publier", dependencies=[CsrfChecked])
async def publish(
    bulletin_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    confirmed: Annotated[str, Form(alias="confirme", max_length=1)] = "",
) -> Response:
    """Publish once confirmed on the page that counts the recipients (without it, that page),
    then follow the deliveries; a second click finds it already published."""
    if not confirmed:
        return RedirectResponse(f"/communiques/{bulletin_id}/publier", status_code=303)

    async def step(session: AsyncSession) -> int | None:
        current = await bulletins.get(session, bulletin_id=bulletin_id)
        if current.status == BulletinStatus.PUBLISHED:
            return None
        return (await actions.publish(session, caller, bulletin_id)).deliveries

    def done(deliveries: int | None) -> tuple[str, str]:
        if deliveries is None:
            return "info", "Ce communiqué était déjà publié."
        return "success", f"Communiqué publié : {deliveries} envois créés."

    to = f"/communiques/{bulletin_id}/suivi"
    return await _step(request, db, caller, bulletin_id, step, done, to)
