"""The composer: write a bulletin (from a playbook's template, or updating another), edit it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.x_thread import X_MAX_PARTS
from contacts import geography
from crisis.actors import Role
from crisis.app import actions
from crisis.app.actions import Caller, CallerDep
from crisis.app.auth import CsrfChecked, CurrentActor, DbDep, SettingsDep
from crisis.app.library import playbook_library
from crisis.app.paths import RowId, RowRef
from crisis.app.policies import channel_policy
from crisis.app.web.bulletin_form import CASCADE_MINUTES, draft_of, form_of
from crisis.app.web.templating import flash, render
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.composer import named_communes, offered, prefill
from crisis.bulletin.render import (
    BULLETIN_CHANNELS,
    PUBLIC_AUDIENCE_CHANNELS,
    PUBLIC_ONLY_CHANNELS,
)
from crisis.bulletin.verdict import verdict
from crisis.bulletin.workflow import Bulletin, ChannelPolicy
from crisis.cell import crises
from crisis.cell.crises import Crisis, playbook_for
from crisis.cip import public as cip_public
from crisis.errors import InvalidInput
from crisis.vocabulary import BulletinStatus
from playbooks import check_completeness
from playbooks.formatting import french_list

router = APIRouter(include_in_schema=False)
FIRST_AUDIENCES = ["officials", "media", "public"]


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
        typed = await _typed_communes(session, form.get("communes") or [])
        chosen = await _communes_text(session, form.get("communes") or crisis.communes)
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
        public_only=PUBLIC_AUDIENCE_CHANNELS,
        account_channels=PUBLIC_ONLY_CHANNELS,
        accounts=policy.accounts(exercise=crisis.is_exercise),
        crisis_communes=", ".join(c.name for c in communes),
        communes_field=typed,
        communes_text=chosen,
        preview_url=f"/evenements/{crisis.id}/communiques/apercu",
        published=published,
        x_max_parts=X_MAX_PARTS,
    )


async def _typed_communes(session: AsyncSession, items: list[str]) -> str:
    """The communes field as typed: « Abbeville (80001) » for a code, the rest as it is."""
    names = {c.code: c.name for c in await geography.communes_by_code(session, codes=items)}
    return ", ".join(f"{names[i]} ({i})" if i in names else i for i in items)


async def _communes_text(session: AsyncSession, items: list[str]) -> str:
    """The communes as a template writes them (« Abbeville, Amiens et Rue »): what the body
    says of them, replaced when they change."""
    codes, _ = await geography.resolve(session, items=items)
    names = [c.name for c in await geography.communes_by_code(session, codes=codes)]
    return french_list(named_communes(names))


def _blank(crisis: Crisis, policy: ChannelPolicy) -> dict[str, Any]:
    """A first alert to everyone, on the public channels that can carry it."""
    return {
        "audiences": FIRST_AUDIENCES,
        "channels": list(policy.usable(audiences=("public",), exercise=crisis.is_exercise)),
        "strategy": "all",
        "cascade_minutes": CASCADE_MINUTES,
        "variants": {},
        "references": [],
        "msg_type": "alert",
        "communes": [],
    }


def _from_template(
    crisis: Crisis, caller: Caller, key: str, names: list[str], cip_number: str | None = None
) -> dict[str, Any]:
    """The playbook's template `key` filled for this crisis, or nothing (the CIP's number,
    once ordered, fills `numero_unique`)."""
    playbook = playbook_for(crisis.kind, playbook_library())
    if not key or playbook is None:
        return {}
    settings, policy = caller.settings, caller.policy
    filled = prefill(
        playbook,
        template_key=key,
        commune_names=names,
        now=caller.now,
        link=f"{settings.base_url.rstrip('/')}/public/bulletins",  # the public list page
        known={"situation": f"{crisis.title}."}
        | settings.contact_phones
        | ({"numero_unique": cip_number} if cip_number else {}),
    )
    if filled is None:
        return {}
    # The template's audiences, and the playbook's channels that serve them and can be used.
    usable = set(policy.usable(audiences=tuple(filled.audiences), exercise=crisis.is_exercise))
    return {
        "title": filled.title,
        "body": filled.body,
        "template": filled.template,
        "variants": filled.variants,
        "audiences": filled.audiences,
        "channels": [c for c in filled.channels if c in usable],
    }


def _following(referenced: Bulletin | None, crisis_id: int, kind: str) -> dict[str, Any]:
    """An update or a cancellation starts from the bulletin it refers to."""
    if referenced is None or referenced.crisis_id != crisis_id:
        return {}
    return form_of(referenced) | {
        "references": [referenced.id],
        "msg_type": "cancel" if kind == "cancel" else "update",
        "template": "",
    }


@router.get("/evenements/{crisis_id}/communiques/nouveau")
async def new_bulletin_page(
    crisis_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    modele: str = "",
    reference: Annotated[RowRef | None, Query()] = None,
    type: str = "update",
) -> HTMLResponse:
    caller.actor.require(Role.COMMUNICATOR, action="rédiger un communiqué")
    policy = caller.policy
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        communes = await geography.communes_by_code(session, codes=crisis.communes)
        referenced = await bulletins.get(session, bulletin_id=reference) if reference else None
        cip_number = await cip_public.ordered_number(session, crisis_id)
    form = (
        _blank(crisis, policy)
        | _from_template(crisis, caller, modele, [c.name for c in communes], cip_number)
        | _following(referenced, crisis_id, type)
    )
    action = _action(crisis_id=crisis_id)
    return await _composer(request, db, crisis=crisis, policy=policy, form=form, action=action)


def _action(*, crisis_id: int = 0, bulletin_id: int = 0) -> str:
    """Where the composer posts: a new bulletin of the crisis, or the bulletin edited."""
    if bulletin_id:
        return f"/communiques/{bulletin_id}/modifier"
    return f"/evenements/{crisis_id}/communiques/nouveau"


async def _save(
    request: Request,
    db: DbDep,
    caller: Caller,
    *,
    done: str,
    crisis_id: int = 0,
    bulletin_id: int = 0,
) -> Response:
    """Save the draft typed; refused, the composer comes back with the problems."""
    draft = draft_of(await request.form())
    try:
        async with db.transaction() as session:
            bulletin = await actions.write(
                session, caller, draft, crisis_id=crisis_id, bulletin_id=bulletin_id
            )
    except InvalidInput as error:
        async with db.read() as session:
            shown = await bulletins.get(session, bulletin_id=bulletin_id) if bulletin_id else None
            crisis = await crises.get(session, crisis_id=shown.crisis_id if shown else crisis_id)
        return await _composer(
            request,
            db,
            crisis=crisis,
            policy=caller.policy,
            form=form_of(draft),
            action=_action(crisis_id=crisis_id, bulletin_id=bulletin_id),
            bulletin=shown,
            problems=error.details or [{"message": error.message}],
        )
    if bulletin_id and bulletin.status == BulletinStatus.SUBMITTED:
        done += " Il repart en validation : une personne qui n'en a rien écrit doit le valider."
    flash(request, "success", done.format(id=bulletin.id))
    return RedirectResponse(f"/communiques/{bulletin.id}", status_code=303)


@router.post("/evenements/{crisis_id}/communiques/nouveau", dependencies=[CsrfChecked])
async def new_bulletin_submit(
    crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> Response:
    done = "Brouillon n° {id} enregistré."
    return await _save(request, db, caller, done=done, crisis_id=crisis_id)


@router.get("/communiques/{bulletin_id}/modifier")
async def edit_bulletin_page(
    bulletin_id: RowId, request: Request, actor: CurrentActor, db: DbDep, settings: SettingsDep
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
        form=form_of(bulletin),
        action=_action(bulletin_id=bulletin_id),
        bulletin=bulletin,
    )


@router.post("/communiques/{bulletin_id}/modifier", dependencies=[CsrfChecked])
async def edit_bulletin_submit(
    bulletin_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> Response:
    done = "Communiqué modifié."
    return await _save(request, db, caller, done=done, bulletin_id=bulletin_id)


@router.post("/evenements/{crisis_id}/communiques/apercu", dependencies=[CsrfChecked])
async def preview_fragment(
    crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> HTMLResponse:
    """The composer's preview: the form as the save reads it, judged as the save and the
    submission judge it, with the renderings per channel."""
    draft = draft_of(await request.form())
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        judged = await verdict(session, crisis=crisis, draft=draft, policy=caller.policy)
        chosen = await _communes_text(session, list(judged.content.communes))
    return render(
        request,
        "bulletins/preview.html",
        judged=judged,
        communes_ok=not any(p["field"] == "communes" for p in judged.to_save),
        communes_text=chosen,
        complete=not check_completeness(title=judged.content.title, body=judged.content.body),
    )
