"""`/api/v1/.../bulletins` and `/api/v1/deliveries`: the workflow of CONTRACT §5."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import privacy
from crisis.app import actions, idempotency
from crisis.app.actions import Caller, CallerDep
from crisis.app.api.bulletin_views import bulletin_view, rendering_views
from crisis.app.api.schemas import returns
from crisis.app.api.schemas.bulletins import (
    ApproveIn,
    BulletinIn,
    BulletinList,
    BulletinView,
    ConfirmedDeliveryView,
    ConfirmIn,
    DeliveriesView,
    PreviewIn,
    PreviewView,
    PublishedBulletinView,
    RejectIn,
    SelfTestIn,
    SelfTestView,
)
from crisis.app.auth import ClockDep, CurrentActor, DbDep, SettingsDep
from crisis.app.paths import RowId
from crisis.app.policies import channel_policy
from crisis.bulletin import confirmations, tracking
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.recipients import recipients
from crisis.bulletin.verdict import verdict
from crisis.bulletin.workflow import Bulletin
from crisis.cell import crises
from crisis.dispatch.outbox import DeliveryStatus
from playbooks import check_completeness

router = APIRouter(prefix="/api/v1", tags=["communiqués"])
Step = Callable[[AsyncSession], Awaitable[Bulletin]]


async def _answer(db: DbDep, caller: Caller, step: Step) -> dict[str, Any]:
    """One workflow step in its transaction; the answer is the bulletin as it now stands."""
    async with db.transaction() as session:
        bulletin = await step(session)
        return bulletin_view(bulletin, policy=caller.policy)


async def _answer_once(request: Request, db: DbDep, caller: Caller, step: Step) -> JSONResponse:
    """A review step sent again under its `Idempotency-Key` (its answer lost to a cut
    connection or a restart) gets the first answer, not a 409 because the bulletin moved on."""

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        return 200, bulletin_view(await step(session), policy=caller.policy)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post(
    "/crises/{crisis_id}/bulletins",
    status_code=201,
    summary="Rédiger un communiqué",
    **returns(BulletinView, 404, 409),
)
async def create_bulletin(
    crisis_id: RowId, body: BulletinIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        bulletin = await actions.write(session, caller, body.draft(), crisis_id=crisis_id)
        return 201, bulletin_view(bulletin, policy=caller.policy)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.get(
    "/crises/{crisis_id}/bulletins",
    summary="Communiqués d'un événement",
    **returns(BulletinList, 404),
)
async def list_bulletins(
    crisis_id: RowId, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    policy = channel_policy(settings)
    async with db.read() as session:
        await crises.get(session, crisis_id=crisis_id)
        rows = await bulletins.listing(session, crisis_id=crisis_id)
    return {"items": [bulletin_view(b, policy=policy) for b in rows]}


@router.post(
    "/bulletins/preview",
    summary="Prévisualiser les rendus par canal (sans enregistrer)",
    **returns(PreviewView, 404),
)
async def preview(
    body: PreviewIn, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    policy = channel_policy(settings)
    draft = body.draft()
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=body.crisis_id)
        judged = await verdict(session, crisis=crisis, draft=draft, policy=policy)
    content = judged.content
    return {
        "renderings": rendering_views(judged.texts),
        "completeness": [
            {"code": m.code, "message": m.message}
            for m in check_completeness(title=content.title, body=content.body)
        ],
        "to_save": judged.to_save,
        "to_submit": judged.to_submit,
    }


@router.get(
    "/bulletins/{bulletin_id}",
    summary="Lire un communiqué et ses rendus",
    **returns(BulletinView, 404),
)
async def read_bulletin(
    bulletin_id: RowId, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
    return bulletin_view(bulletin, policy=channel_policy(settings))


@router.patch(
    "/bulletins/{bulletin_id}",
    summary="Modifier un communiqué non publié",
    **returns(BulletinView, 404, 409),
)
async def edit_bulletin(
    bulletin_id: RowId, body: BulletinIn, caller: CallerDep, db: DbDep
) -> dict[str, Any]:
    return await _answer(
        db, caller, lambda s: actions.write(s, caller, body.draft(), bulletin_id=bulletin_id)
    )


@router.post(
    "/bulletins/{bulletin_id}/submit",
    summary="Soumettre à validation",
    **returns(BulletinView, 404, 409),
)
async def submit_bulletin(
    bulletin_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    return await _answer_once(request, db, caller, lambda s: actions.submit(s, caller, bulletin_id))


@router.post(
    "/bulletins/{bulletin_id}/approve",
    summary="Valider (quatre yeux)",
    **returns(BulletinView, 404, 409),
)
async def approve_bulletin(
    bulletin_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    body: ApproveIn | None = None,
) -> JSONResponse:
    seen = body.content_hash if body is not None else None
    return await _answer_once(
        request, db, caller, lambda s: actions.review(s, caller, bulletin_id, seen_hash=seen)
    )


@router.post(
    "/bulletins/{bulletin_id}/reject",
    summary="Rejeter, avec le motif",
    **returns(BulletinView, 404, 409),
)
async def reject_bulletin(
    bulletin_id: RowId, body: RejectIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    return await _answer_once(
        request, db, caller, lambda s: actions.review(s, caller, bulletin_id, reject=body.reason)
    )


@router.post(
    "/bulletins/{bulletin_id}/publish",
    summary="Publier : tous les envois en une fois",
    **returns(PublishedBulletinView, 404, 409),
)
async def publish_bulletin(
    bulletin_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        published = await actions.publish(session, caller, bulletin_id)
        view = bulletin_view(published.bulletin, policy=caller.policy)
        view["publication"] = {
            "deliveries": published.deliveries,
            "to_call": published.to_call,
            "public": published.public,
        }
        return 200, view

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


class ReachView(BaseModel):
    targeted: int
    to_call: int


class RecipientsView(BaseModel):
    """Who the bulletin would reach if published now, counted as the fan-out selects."""

    bulletin_id: int
    exercise: bool
    people: dict[str, ReachView]
    played: dict[str, int]
    public_accounts: int
    public_page: bool
    sentence: str


@router.get(
    "/bulletins/{bulletin_id}/recipients",
    summary="Destinataires d'une publication (nombres, sans rien publier)",
    **returns(RecipientsView, 404),
)
async def bulletin_recipients(
    bulletin_id: RowId, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        found = await recipients(session, bulletin=bulletin, policy=channel_policy(settings))
    return {
        "bulletin_id": bulletin_id,
        "exercise": found.exercise,
        "people": {a: r._asdict() for a, r in found.people.items()},
        "played": found.played,
        "public_accounts": found.public_accounts,
        "public_page": found.public_page,
        "sentence": found.sentence(),
    }


@router.post(
    "/bulletins/{bulletin_id}/test",
    status_code=201,
    summary="S'envoyer un test (à ses propres canaux seulement)",
    **returns(SelfTestView, 403, 404, 409),
)
async def test_bulletin(
    bulletin_id: RowId, body: SelfTestIn, caller: CallerDep, db: DbDep
) -> dict[str, Any]:
    async with db.transaction() as session:
        sent = await actions.send_test(
            session, caller, bulletin_id, channel=body.channel, address=body.address
        )
    return {
        "bulletin_id": bulletin_id,
        "deliveries": sent.deliveries,
        "address": sent.address,
        "channel": sent.channel,
    }


@router.get(
    "/bulletins/{bulletin_id}/deliveries",
    summary="Suivi des envois d'un communiqué",
    **returns(DeliveriesView, 404),
)
async def bulletin_deliveries(
    bulletin_id: RowId,
    actor: CurrentActor,
    db: DbDep,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    audience: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    wanted = status.value if status else None
    personal = privacy.sees_personal_data(actor)
    async with db.read() as session:
        await bulletins.get(session, bulletin_id=bulletin_id)
        counted = await tracking.counts(
            session, bulletin_id=bulletin_id, status=wanted, audience=audience
        )
        rows = await tracking.items(
            session,
            bulletin_id=bulletin_id,
            status=wanted,
            audience=audience,
            limit=limit,
            offset=offset,
        )
    return {
        "counts": counted.counts,
        "by_audience": counted.by_audience,
        "by_played_audience": counted.by_played_audience,
        "by_channel": counted.by_channel,
        "confirmed_by": counted.confirmed_by,
        "total": counted.total,
        "limit": limit,
        "offset": offset,
        "items": [tracking.delivery_view(d, personal=personal) for d in rows],
    }


@router.post(
    "/deliveries/{delivery_id}/confirm",
    summary="Confirmer une réception par téléphone",
    **returns(ConfirmedDeliveryView, 404, 409),
)
async def confirm_delivery(
    delivery_id: RowId, body: ConfirmIn, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> dict[str, Any]:
    async with db.transaction() as session:
        done = await confirmations.confirm_by_phone(
            session,
            actor=actor,
            delivery_id=delivery_id,
            note=body.note,
            now=clock.now(),
            method=body.method,
        )
        view = tracking.delivery_view(done.delivery, personal=privacy.sees_personal_data(actor))
    return view | {"cancelled": done.cancelled}
