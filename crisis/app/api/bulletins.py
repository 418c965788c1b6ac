"""`/api/v1/.../bulletins` and `/api/v1/deliveries`: the workflow of CONTRACT §5."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app import idempotency
from crisis.app.api.schemas import returns
from crisis.app.api.schemas.bulletins import (
    BulletinList,
    BulletinView,
    ConfirmedDeliveryView,
    DeliveriesView,
    PreviewView,
    PublishedBulletinView,
    SelfTestView,
)
from crisis.app.auth import ClockDep, CurrentActor, DbDep, SettingsDep
from crisis.app.policies import channel_policy
from crisis.bulletin import confirmations, publication, tracking
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.render import Content, public_link, render_all
from crisis.bulletin.workflow import Bulletin, ChannelPolicy, Draft
from crisis.cell import crises
from crisis.dispatch.outbox import DeliveryStatus
from playbooks import check_completeness

router = APIRouter(prefix="/api/v1", tags=["communiqués"])


class BulletinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=300)
    body: str = Field(max_length=20_000)
    audiences: list[str] = Field(max_length=5)
    channels: list[str] | None = Field(default=None, max_length=10)
    communes: list[str] | None = Field(default=None, max_length=1000)
    template: str | None = Field(default=None, max_length=100)
    variants: dict[str, str] = Field(default_factory=dict)
    references: list[int] = Field(default_factory=list, max_length=20)
    msg_type: Literal["alert", "update", "cancel"] | None = None
    strategy: Literal["all", "cascade"] = "all"
    cascade_minutes: int = Field(default=0, ge=0, le=bulletins.MAX_CASCADE_MINUTES)
    confirm_receipt: bool = False
    x_thread: bool = Field(
        default=False,
        description="Publier sur X en fil (plusieurs messages numérotés) si le texte "
        "dépasse 280 caractères pondérés ; X porte alors le texte entier.",
    )

    def draft(self) -> Draft:
        return Draft(**self.model_dump())


class PreviewIn(BulletinIn):
    crisis_id: int


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["phone"] = "phone"
    note: str = Field(default="", max_length=2000)


class SelfTestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["email", "sms", "telegram", "matrix"] = "email"
    address: str | None = Field(default=None, max_length=320)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def rendering_views(texts: dict[str, Any]) -> dict[str, Any]:
    return {
        channel: {
            "text": t.text,
            "subject": t.subject,
            "length": t.length,
            "unit": t.unit,
            "short_form": t.short_form,
            "parts": [
                {"text": part, "length": length}
                for part, length in zip(t.parts, t.part_lengths, strict=True)
            ],
            "problems": [{"code": p.code, "message": p.message} for p in t.problems],
        }
        for channel, t in texts.items()
    }


def bulletin_view(bulletin: Bulletin, *, policy: ChannelPolicy) -> dict[str, Any]:
    return {
        "id": bulletin.id,
        "crisis_id": bulletin.crisis_id,
        "title": bulletin.title,
        "body": bulletin.body,
        "audiences": bulletin.audiences,
        "channels": bulletin.channels,
        "communes": bulletin.communes,
        "template": bulletin.template,
        "variants": bulletin.variants,
        "references": bulletin.reference_ids,
        "msg_type": bulletin.msg_type,
        "strategy": bulletin.strategy,
        "cascade_minutes": bulletin.cascade_minutes,
        "confirm_receipt": bulletin.confirm_receipt,
        "x_thread": bulletin.x_thread,
        "status": bulletin.status,
        "exercise": bulletin.exercise,
        "content_hash": bulletin.content_hash,
        "approved_hash": bulletin.approved_hash,
        "author": bulletin.author,
        "submitted_by": bulletin.submitted_by,
        "submitted_at": _iso(bulletin.submitted_at),
        "approved_by": bulletin.approved_by,
        "approved_at": _iso(bulletin.approved_at),
        "rejected_by": bulletin.rejected_by,
        "rejected_at": _iso(bulletin.rejected_at),
        "reject_reason": bulletin.reject_reason,
        "published_at": _iso(bulletin.published_at),
        "published_by": bulletin.published_by,
        "public_url": public_link(policy.base_url, bulletin.id),
        "renderings": rendering_views(bulletins.renderings(bulletin, policy=policy)),
        "created_at": _iso(bulletin.created_at),
        "updated_at": _iso(bulletin.updated_at),
    }


@router.post(
    "/crises/{crisis_id}/bulletins",
    status_code=201,
    summary="Rédiger un communiqué",
    **returns(BulletinView, 404, 409),
)
async def create_bulletin(
    crisis_id: int,
    body: BulletinIn,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> JSONResponse:
    now, policy = clock.now(), channel_policy(settings)

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        bulletin = await bulletins.create(
            session, actor=actor, crisis_id=crisis_id, draft=body.draft(), policy=policy, now=now
        )
        return 201, bulletin_view(bulletin, policy=policy)

    return await idempotency.run(request, db, actor=actor, now=now, action=action)


@router.get(
    "/crises/{crisis_id}/bulletins",
    summary="Communiqués d'un événement",
    **returns(BulletinList, 404),
)
async def list_bulletins(
    crisis_id: int, actor: CurrentActor, db: DbDep, settings: SettingsDep
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
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=body.crisis_id)
    content = Content(
        crisis_id=body.crisis_id,
        title=" ".join(body.title.split()),
        body=body.body.strip(),
        audiences=tuple(body.audiences),
        channels=tuple(c for c in body.channels or () if c in policy.available),
        communes=(),
        variants={k: v for k, v in body.variants.items() if v.strip()},
        msg_type=body.msg_type or ("update" if body.references else "alert"),
        confirm_receipt=body.confirm_receipt,
        x_thread=body.x_thread and "x" in (body.channels or ()),
    )
    texts = render_all(content, link=public_link(policy.base_url, 0), exercise=crisis.is_exercise)
    missing = check_completeness(title=content.title, body=content.body)
    return {
        "renderings": rendering_views(texts),
        "completeness": [{"code": m.code, "message": m.message} for m in missing],
    }


@router.get(
    "/bulletins/{bulletin_id}",
    summary="Lire un communiqué et ses rendus",
    **returns(BulletinView, 404),
)
async def read_bulletin(
    bulletin_id: int, actor: CurrentActor, db: DbDep, settings: SettingsDep
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
    bulletin_id: int,
    body: BulletinIn,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    policy = channel_policy(settings)
    async with db.transaction() as session:
        bulletin = await bulletins.edit(
            session,
            actor=actor,
            bulletin_id=bulletin_id,
            draft=body.draft(),
            policy=policy,
            now=clock.now(),
        )
        return bulletin_view(bulletin, policy=policy)


@router.post(
    "/bulletins/{bulletin_id}/submit",
    summary="Soumettre à validation",
    **returns(BulletinView, 404, 409),
)
async def submit_bulletin(
    bulletin_id: int, actor: CurrentActor, db: DbDep, clock: ClockDep, settings: SettingsDep
) -> dict[str, Any]:
    policy = channel_policy(settings)
    async with db.transaction() as session:
        bulletin = await bulletins.submit(
            session, actor=actor, bulletin_id=bulletin_id, policy=policy, now=clock.now()
        )
        return bulletin_view(bulletin, policy=policy)


@router.post(
    "/bulletins/{bulletin_id}/approve",
    summary="Valider (quatre yeux)",
    **returns(BulletinView, 404, 409),
)
async def approve_bulletin(
    bulletin_id: int, actor: CurrentActor, db: DbDep, clock: ClockDep, settings: SettingsDep
) -> dict[str, Any]:
    async with db.transaction() as session:
        bulletin = await bulletins.approve(
            session, actor=actor, bulletin_id=bulletin_id, now=clock.now()
        )
        return bulletin_view(bulletin, policy=channel_policy(settings))


@router.post(
    "/bulletins/{bulletin_id}/reject",
    summary="Rejeter, avec le motif",
    **returns(BulletinView, 404, 409),
)
async def reject_bulletin(
    bulletin_id: int,
    body: RejectIn,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    async with db.transaction() as session:
        bulletin = await bulletins.reject(
            session, actor=actor, bulletin_id=bulletin_id, reason=body.reason, now=clock.now()
        )
        return bulletin_view(bulletin, policy=channel_policy(settings))


@router.post(
    "/bulletins/{bulletin_id}/publish",
    summary="Publier : tous les envois en une fois",
    **returns(PublishedBulletinView, 404, 409),
)
async def publish_bulletin(
    bulletin_id: int,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> JSONResponse:
    now, policy = clock.now(), channel_policy(settings)

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        published = await publication.publish(
            session, actor=actor, bulletin_id=bulletin_id, policy=policy, now=now
        )
        view = bulletin_view(published.bulletin, policy=policy)
        view["publication"] = {
            "deliveries": published.deliveries,
            "to_call": published.to_call,
            "public": published.public,
        }
        return 200, view

    return await idempotency.run(request, db, actor=actor, now=now, action=action)


@router.post(
    "/bulletins/{bulletin_id}/test",
    status_code=201,
    summary="S'envoyer un test",
    **returns(SelfTestView, 404, 409),
)
async def test_bulletin(
    bulletin_id: int,
    body: SelfTestIn,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    async with db.transaction() as session:
        sent = await publication.send_test(
            session,
            actor=actor,
            bulletin_id=bulletin_id,
            channel=body.channel,
            address=body.address,
            policy=channel_policy(settings),
            now=clock.now(),
        )
    return {"bulletin_id": bulletin_id, "deliveries": sent.deliveries, "address": sent.address}


@router.get(
    "/bulletins/{bulletin_id}/deliveries",
    summary="Suivi des envois d'un communiqué",
    **returns(DeliveriesView, 404),
)
async def bulletin_deliveries(
    bulletin_id: int,
    actor: CurrentActor,
    db: DbDep,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    audience: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    wanted = status.value if status else None
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
        "items": [tracking.delivery_view(d) for d in rows],
    }


@router.post(
    "/deliveries/{delivery_id}/confirm",
    summary="Confirmer une réception par téléphone",
    **returns(ConfirmedDeliveryView, 404, 409),
)
async def confirm_delivery(
    delivery_id: int, body: ConfirmIn, actor: CurrentActor, db: DbDep, clock: ClockDep
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
        view = tracking.delivery_view(done.delivery)
    return view | {"cancelled": done.cancelled}
