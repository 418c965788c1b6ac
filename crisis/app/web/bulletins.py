"""Bulletin pages: composer, the bulletin with its workflow buttons, and live tracking."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.datastructures import FormData

from channels.x_thread import X_MAX_PARTS
from contacts import geography
from crisis.accounts import User
from crisis.actors import Actor, Role
from crisis.app.auth import ClockDep, CsrfChecked, CurrentActor, DbDep, SettingsDep
from crisis.app.library import playbook_library
from crisis.app.policies import channel_policy
from crisis.app.web.templating import flash, render
from crisis.bulletin import confirmations, publication, tracking
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.composer import offered, prefill
from crisis.bulletin.render import BULLETIN_CHANNELS, PUBLIC_ONLY_CHANNELS, public_link
from crisis.bulletin.workflow import Bulletin, BulletinStatus, ChannelPolicy, Draft
from crisis.cell import crises
from crisis.cell.crises import Crisis, playbook_for
from crisis.errors import InvalidInput

router = APIRouter(include_in_schema=False)
_SPLIT = re.compile(r"[\s,;]+")


def _draft(form: FormData) -> Draft:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    def many(name: str) -> list[str]:
        return [v for v in form.getlist(name) if isinstance(v, str) and v]

    variants = {c: text(f"variant_{c}") for c in BULLETIN_CHANNELS if text(f"variant_{c}").strip()}
    minutes = text("cascade_minutes").strip()
    return Draft(
        title=text("title"),
        body=text("body").replace("\r\n", "\n"),
        audiences=many("audiences"),
        channels=many("channels"),
        communes=[c for c in _SPLIT.split(text("communes")) if c] or None,
        template=text("template") or None,
        variants={k: v.replace("\r\n", "\n") for k, v in variants.items()},
        references=[int(r) for r in many("references") if r.isdigit()],
        msg_type=text("msg_type") or None,
        strategy=text("strategy") or "all",
        cascade_minutes=int(minutes) if minutes.isdigit() else 0,
        confirm_receipt=bool(text("confirm_receipt")),
        x_thread=bool(text("x_thread")),
    )


def _form_of(bulletin: Bulletin) -> dict[str, Any]:
    return {
        "title": bulletin.title,
        "body": bulletin.body,
        "audiences": bulletin.audiences,
        "channels": bulletin.channels,
        "communes": " ".join(bulletin.communes),
        "template": bulletin.template or "",
        "variants": bulletin.variants,
        "references": bulletin.reference_ids,
        "msg_type": bulletin.msg_type,
        "strategy": bulletin.strategy,
        "cascade_minutes": bulletin.cascade_minutes or 10,
        "confirm_receipt": bulletin.confirm_receipt,
        "x_thread": bulletin.x_thread,
    }


def _form_of_draft(draft: Draft) -> dict[str, Any]:
    return {
        "title": draft.title,
        "body": draft.body,
        "audiences": draft.audiences,
        "channels": draft.channels or [],
        "communes": " ".join(draft.communes or []),
        "template": draft.template or "",
        "variants": draft.variants,
        "references": draft.references,
        "msg_type": draft.msg_type or "alert",
        "strategy": draft.strategy,
        "cascade_minutes": draft.cascade_minutes or 10,
        "confirm_receipt": draft.confirm_receipt,
        "x_thread": draft.x_thread,
    }


async def _composer(
    request: Request,
    db: DbDep,
    *,
    crisis: Crisis,
    policy: ChannelPolicy,
    form: dict[str, Any],
    action: str,
    bulletin: Bulletin | None = None,
    problems: list[Any] | None = None,
) -> HTMLResponse:
    assert crisis.id is not None
    async with db.read() as session:
        communes = await geography.communes_by_code(session, codes=crisis.communes)
        published = [
            b
            for b in await bulletins.listing(session, crisis_id=crisis.id)
            if b.status == BulletinStatus.PUBLISHED
        ]
    playbook = playbook_for(crisis.kind, playbook_library())
    return render(
        request,
        "bulletins/composer.html",
        status=422 if problems else 200,
        crisis=crisis,
        exercise=crisis.is_exercise,
        bulletin=bulletin,
        form=form,
        action=action,
        problems=problems or [],
        playbook=playbook,
        templates=offered(playbook) if playbook else [],
        channels=[c for c in BULLETIN_CHANNELS if c in policy.available],
        public_only=PUBLIC_ONLY_CHANNELS,
        accounts=policy.accounts(exercise=crisis.is_exercise),
        crisis_communes=", ".join(c.name for c in communes),
        published=published,
        x_max_parts=X_MAX_PARTS,
    )


@router.get("/evenements/{crisis_id}/communiques/nouveau")
async def new_bulletin_page(
    crisis_id: int,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    modele: str = "",
    reference: int | None = None,
    type: str = "update",
) -> HTMLResponse:
    actor.require(Role.COMMUNICATOR, action="rédiger un communiqué")
    policy = channel_policy(settings)
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        communes = await geography.communes_by_code(session, codes=crisis.communes)
        referenced = await bulletins.get(session, bulletin_id=reference) if reference else None
    form: dict[str, Any] = {
        "audiences": ["officials", "media", "public"],
        "channels": list(policy.usable(audiences=("public",), exercise=crisis.is_exercise)),
        "strategy": "all",
        "cascade_minutes": 10,
        "variants": {},
        "references": [],
        "msg_type": "alert",
        "communes": "",
    }
    playbook = playbook_for(crisis.kind, playbook_library())
    if modele and playbook is not None:
        filled = prefill(
            playbook,
            template_key=modele,
            commune_names=[c.name for c in communes],
            now=clock.now(),
            link=f"{settings.base_url.rstrip('/')}/public/bulletins",
            known={"situation": f"{crisis.title}."} | settings.contact_phones,
        )
        if filled is not None:
            usable = set(
                policy.usable(audiences=tuple(form["audiences"]), exercise=crisis.is_exercise)
            )
            form |= {
                "title": filled.title,
                "body": filled.body,
                "template": filled.template,
                "variants": filled.variants,
                "channels": [c for c in filled.channels if c in usable],
            }
    if referenced is not None and referenced.crisis_id == crisis_id:
        form |= _form_of(referenced) | {
            "references": [referenced.id],
            "msg_type": "cancel" if type == "cancel" else "update",
            "template": "",
        }
    return await _composer(
        request,
        db,
        crisis=crisis,
        policy=policy,
        form=form,
        action=f"/evenements/{crisis_id}/communiques/nouveau",
    )


@router.post("/evenements/{crisis_id}/communiques/nouveau", dependencies=[CsrfChecked])
async def new_bulletin_submit(
    crisis_id: int,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    draft = _draft(await request.form())
    policy = channel_policy(settings)
    try:
        async with db.transaction() as session:
            bulletin = await bulletins.create(
                session,
                actor=actor,
                crisis_id=crisis_id,
                draft=draft,
                policy=policy,
                now=clock.now(),
            )
    except InvalidInput as error:
        async with db.read() as session:
            crisis = await crises.get(session, crisis_id=crisis_id)
        return await _composer(
            request,
            db,
            crisis=crisis,
            policy=policy,
            form=_form_of_draft(draft),
            action=f"/evenements/{crisis_id}/communiques/nouveau",
            problems=error.details or [{"message": error.message}],
        )
    flash(request, "success", f"Brouillon n° {bulletin.id} enregistré.")
    return RedirectResponse(f"/communiques/{bulletin.id}", status_code=303)


@router.get("/communiques/{bulletin_id}/modifier")
async def edit_bulletin_page(
    bulletin_id: int, request: Request, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> HTMLResponse:
    actor.require(Role.COMMUNICATOR, action="modifier un communiqué")
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        crisis = await crises.get(session, crisis_id=bulletin.crisis_id)
    return await _composer(
        request,
        db,
        crisis=crisis,
        policy=channel_policy(settings),
        form=_form_of(bulletin),
        action=f"/communiques/{bulletin_id}/modifier",
        bulletin=bulletin,
    )


@router.post("/communiques/{bulletin_id}/modifier", dependencies=[CsrfChecked])
async def edit_bulletin_submit(
    bulletin_id: int,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    draft = _draft(await request.form())
    policy = channel_policy(settings)
    try:
        async with db.transaction() as session:
            bulletin = await bulletins.edit(
                session,
                actor=actor,
                bulletin_id=bulletin_id,
                draft=draft,
                policy=policy,
                now=clock.now(),
            )
    except InvalidInput as error:
        async with db.read() as session:
            bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
            crisis = await crises.get(session, crisis_id=bulletin.crisis_id)
        return await _composer(
            request,
            db,
            crisis=crisis,
            policy=policy,
            form=_form_of_draft(draft),
            action=f"/communiques/{bulletin_id}/modifier",
            bulletin=bulletin,
            problems=error.details or [{"message": error.message}],
        )
    flash(request, "success", "Communiqué modifié.")
    return RedirectResponse(f"/communiques/{bulletin.id}", status_code=303)


async def _bulletin_page(
    request: Request,
    db: DbDep,
    actor: Actor,
    settings: Any,
    bulletin_id: int,
    *,
    problems: list[Any] | None = None,
) -> HTMLResponse:
    policy = channel_policy(settings)
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        crisis = await crises.get(session, crisis_id=bulletin.crisis_id)
        user = await session.get(User, actor.user_id) if actor.user_id else None
        counted = await tracking.counts(session, bulletin_id=bulletin_id)
    return render(
        request,
        "bulletins/bulletin.html",
        status=422 if problems else 200,
        bulletin=bulletin,
        crisis=crisis,
        exercise=crisis.is_exercise,
        renderings=bulletins.renderings(bulletin, policy=policy),
        may=bulletins.permissions(actor, bulletin),
        problems=problems or [],
        my_email=user.email if user and user.email else "",
        public_url=public_link(policy.base_url, bulletin.id),
        counted=counted,
    )


@router.get("/communiques/{bulletin_id}")
async def bulletin_page(
    bulletin_id: int, request: Request, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> HTMLResponse:
    return await _bulletin_page(request, db, actor, settings, bulletin_id)


@router.post("/communiques/{bulletin_id}/{step}", dependencies=[CsrfChecked])
async def bulletin_step(
    bulletin_id: int,
    step: str,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """The workflow buttons: soumettre, valider, rejeter, publier, test."""
    form = await request.form()
    policy, now = channel_policy(settings), clock.now()
    here = f"/communiques/{bulletin_id}"
    try:
        async with db.transaction() as session:
            match step:
                case "soumettre":
                    await bulletins.submit(
                        session, actor=actor, bulletin_id=bulletin_id, policy=policy, now=now
                    )
                    message = "Communiqué soumis à validation."
                case "valider":
                    await bulletins.approve(session, actor=actor, bulletin_id=bulletin_id, now=now)
                    message = "Communiqué validé : il peut être publié."
                case "rejeter":
                    reason = form.get("reason")
                    await bulletins.reject(
                        session,
                        actor=actor,
                        bulletin_id=bulletin_id,
                        reason=reason if isinstance(reason, str) else "",
                        now=now,
                    )
                    message = "Communiqué rejeté : il revient en brouillon avec le motif."
                case "publier":
                    current = await bulletins.get(session, bulletin_id=bulletin_id)
                    if current.status == BulletinStatus.PUBLISHED:
                        flash(request, "info", "Ce communiqué était déjà publié.")
                        return RedirectResponse(f"{here}/suivi", status_code=303)
                    done = await publication.publish(
                        session, actor=actor, bulletin_id=bulletin_id, policy=policy, now=now
                    )
                    flash(
                        request, "success", f"Communiqué publié : {done.deliveries} envois créés."
                    )
                    return RedirectResponse(f"{here}/suivi", status_code=303)
                case "test":
                    address = form.get("address")
                    sent = await publication.send_test(
                        session,
                        actor=actor,
                        bulletin_id=bulletin_id,
                        channel="email",
                        address=address if isinstance(address, str) else None,
                        policy=policy,
                        now=now,
                        remember=True,
                    )
                    message = f"Test envoyé à {sent.address}."
                case _:
                    return Response(status_code=404)
    except InvalidInput as error:
        details = error.details if isinstance(error.details, list) else []
        return await _bulletin_page(
            request,
            db,
            actor,
            settings,
            bulletin_id,
            problems=details or [{"message": error.message}],
        )
    flash(request, "success", message)
    return RedirectResponse(here, status_code=303)


async def _tracking_context(db: DbDep, bulletin_id: int) -> dict[str, Any]:
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        counted = await tracking.counts(session, bulletin_id=bulletin_id)
        failures = await tracking.items(
            session, bulletin_id=bulletin_id, status="failed", limit=500
        )
        to_call = await tracking.items(
            session, bulletin_id=bulletin_id, status="to_call", limit=1000
        )
    groups = counted.by_played_audience if bulletin.exercise else counted.by_audience
    return {
        "bulletin": bulletin,
        "counted": counted,
        "audience_rows": _rows(groups),
        "channel_rows": _rows(counted.by_channel),
        "failures": failures,
        "to_call": to_call,
    }


TRACKED = ("sent", "confirmed", "pending", "sending", "retrying", "failed", "to_call", "cancelled")


def _rows(groups: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    rows = []
    for key, per in sorted(groups.items()):
        total = sum(per.values()) or 1
        rows.append(
            {
                "key": key,
                "total": sum(per.values()),
                "counts": per,
                "parts": [
                    (s, per.get(s, 0), round(100 * per.get(s, 0) / total, 1)) for s in TRACKED
                ],
            }
        )
    return rows


@router.get("/communiques/{bulletin_id}/suivi")
async def tracking_page(
    bulletin_id: int, request: Request, actor: CurrentActor, db: DbDep
) -> HTMLResponse:
    context = await _tracking_context(db, bulletin_id)
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=context["bulletin"].crisis_id)
    can_call = bool(actor.roles & {Role.COMMUNICATOR, Role.OPERATOR})
    return render(
        request,
        "bulletins/tracking.html",
        crisis=crisis,
        exercise=crisis.is_exercise,
        can_call=can_call,
        **context,
    )


@router.get("/fragments/communiques/{bulletin_id}/suivi")
async def tracking_fragment(
    bulletin_id: int, request: Request, actor: CurrentActor, db: DbDep
) -> HTMLResponse:
    context = await _tracking_context(db, bulletin_id)
    can_call = bool(actor.roles & {Role.COMMUNICATOR, Role.OPERATOR})
    return render(request, "bulletins/tracking_live.html", can_call=can_call, **context)


@router.get("/communiques/{bulletin_id}/envois.csv")
async def deliveries_csv(bulletin_id: int, actor: CurrentActor, db: DbDep) -> StreamingResponse:
    async with db.read() as session:
        await bulletins.get(session, bulletin_id=bulletin_id)

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(tracking.CSV_COLUMNS)
        async with db.read() as session:
            async for delivery in tracking.stream(session, bulletin_id=bulletin_id):
                view = tracking.delivery_view(delivery)
                writer.writerow(["" if view[c] is None else view[c] for c in tracking.CSV_COLUMNS])
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    filename = f"communique-{bulletin_id}-envois.csv"
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/envois/{delivery_id}/appel", dependencies=[CsrfChecked])
async def log_call(
    delivery_id: int, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> Response:
    note = (await request.form()).get("note")
    async with db.transaction() as session:
        done = await confirmations.confirm_by_phone(
            session,
            actor=actor,
            delivery_id=delivery_id,
            note=note if isinstance(note, str) else "",
            now=clock.now(),
        )
        bulletin_id = done.delivery.bulletin_id
        name = done.delivery.recipient_name
    flash(
        request,
        "success",
        f"Appel enregistré : réception confirmée par {name or 'le destinataire'}.",
    )
    return RedirectResponse(f"/communiques/{bulletin_id}/suivi", status_code=303)


@router.get("/fragments/evenements/{crisis_id}/communiques")
async def crisis_bulletins_fragment(
    crisis_id: int, request: Request, actor: CurrentActor, db: DbDep
) -> HTMLResponse:
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        rows = await bulletins.listing(session, crisis_id=crisis_id)
    return render(
        request,
        "bulletins/crisis_bulletins.html",
        crisis=crisis,
        bulletins=rows,
        can_write=Role.COMMUNICATOR in actor.roles,
    )
