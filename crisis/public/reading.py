"""Read what the public may see: the bulletins published to the public audience, of one mode
(real, or exercise under `?mode=exercise`), with their crisis' CAP values, their communes'
names and their public updates and cancellations.

Only bulletins that are themselves public are ever linked or named: an update of a bulletin
for the mayors only refers to nothing here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.geography import communes_by_code
from crisis.bulletin.public import PUBLIC_ID, aims_at_public
from crisis.bulletin.record import Bulletin
from crisis.cell import crises
from crisis.public.bulletin import DEFAULT_CAP, Commune, PublicBulletin, Reference, Version
from crisis.vocabulary import BulletinStatus, Language
from playbooks import Playbook


async def _published(
    session: AsyncSession, *, exercise: bool, crisis_id: int | None = None
) -> list[Bulletin]:
    query = select(Bulletin).where(
        Bulletin.status == BulletinStatus.PUBLISHED, Bulletin.exercise == exercise
    )
    if crisis_id is not None:
        query = query.where(Bulletin.crisis_id == crisis_id)
    query = query.order_by(col(Bulletin.published_at).desc(), col(Bulletin.id).desc())
    return [b for b in (await session.exec(query)).all() if aims_at_public(b.audiences)]


async def published(
    session: AsyncSession, *, exercise: bool, playbooks: Mapping[str, Playbook]
) -> list[PublicBulletin]:
    """Every public bulletin of the mode, newest first."""
    return await _assemble(session, await _published(session, exercise=exercise), playbooks)


async def about_commune(
    session: AsyncSession, *, exercise: bool, commune: str, playbooks: Mapping[str, Playbook]
) -> tuple[list[PublicBulletin], str]:
    """(the public bulletins of the mode about `commune`, or all of them; the commune's name)."""
    shown = await published(session, exercise=exercise, playbooks=playbooks)
    if commune:
        shown = [b for b in shown if commune in b.commune_codes]
    return shown, await commune_name(session, code=commune)


async def one(
    session: AsyncSession, *, public_id: str, exercise: bool, playbooks: Mapping[str, Playbook]
) -> PublicBulletin | None:
    """The public bulletin named `public_id` in this mode, or None (never looked up when the
    name has not the shape of a public id)."""
    if not PUBLIC_ID.fullmatch(public_id):
        return None
    found = (await session.exec(select(Bulletin).where(Bulletin.public_id == public_id))).first()
    if found is None or found.exercise != exercise:
        return None  # (`_assemble` also drops a row of an exercise crisis not flagged so)
    if found.status != BulletinStatus.PUBLISHED or not aims_at_public(found.audiences):
        return None
    same_crisis = await _published(session, exercise=exercise, crisis_id=found.crisis_id)
    assembled = await _assemble(session, same_crisis, playbooks)
    return next((b for b in assembled if b.public_id == public_id), None)


async def _assemble(
    session: AsyncSession, rows: Sequence[Bulletin], playbooks: Mapping[str, Playbook]
) -> list[PublicBulletin]:
    crisis_rows = {
        cid: await crises.get(session, crisis_id=cid) for cid in {b.crisis_id for b in rows}
    }
    codes = {c for b in rows for c in (b.communes or crisis_rows[b.crisis_id].communes)}
    names = {c.code: c.name for c in await communes_by_code(session, codes=sorted(codes))}
    by_id = {b.id: b for b in rows}
    later: dict[int | None, list[Bulletin]] = {}
    for b in sorted(rows, key=lambda r: (r.published_at or r.created_at, r.id or 0)):
        for ref in b.reference_ids:
            target = by_id.get(ref)
            if target is not None and target.crisis_id == b.crisis_id:
                later.setdefault(ref, []).append(b)
    assembled = []
    for b in rows:
        crisis = crisis_rows[b.crisis_id]
        if crisis.is_exercise and not b.exercise:
            continue  # whatever the row says, an exercise crisis is never public
        playbook = _playbook(playbooks, key=crisis.playbook_key, kind=crisis.kind)
        earlier = [by_id[r] for r in b.reference_ids if r in by_id]
        assembled.append(
            PublicBulletin(
                public_id=b.public_id,
                title=b.title,
                body=b.body,
                msg_type=b.msg_type,
                published_at=b.published_at or b.created_at,
                exercise=b.exercise,
                crisis_title=crisis.title,
                crisis_open=crisis.is_open,
                cap=playbook.cap if playbook else DEFAULT_CAP,
                communes=tuple(
                    Commune(code, names.get(code, code)) for code in (b.communes or crisis.communes)
                ),
                earlier=_references(e for e in earlier if e.crisis_id == b.crisis_id),
                later=_references(later.get(b.id, [])),
                versions=tuple(
                    Version(lang, b.translations[lang]["title"], b.translations[lang]["body"])
                    for lang in Language
                    if lang in (b.translations or {})
                ),
            )
        )
    return assembled


async def commune_name(session: AsyncSession, *, code: str) -> str:
    """The name of the commune `code` ("" when empty or unknown)."""
    if not code:
        return ""
    found = await communes_by_code(session, codes=[code])
    return found[0].name if found else ""


def _references(rows: Iterable[Bulletin]) -> tuple[Reference, ...]:
    return tuple(
        Reference(b.public_id, b.title, b.published_at or b.created_at, b.msg_type) for b in rows
    )


def _playbook(playbooks: Mapping[str, Playbook], *, key: str | None, kind: str) -> Playbook | None:
    if key and key in playbooks:
        return playbooks[key]
    return next((p for p in playbooks.values() if p.kind == kind), None)
