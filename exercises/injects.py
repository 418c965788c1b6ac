"""A crisis drill's scenario: its injects, in order, and what each one is played to.

An inject is a message of the scenario sent to the players at an offset from the run's start
(minutes): to every participant as one audience plays it (élus, médias…), or to one named
participant, over one channel if chosen. It may expect an action, within a deadline. The
trainer writes them on the drill; they cannot change while a run of the drill is going (the
players' timeline does not move under them): 409. Bad input: 422, nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import AddressKind
from crisis import journal
from crisis.actors import Actor
from crisis.errors import NotFound
from crisis.labels import AUDIENCE_LABELS
from crisis.text import visible_length
from exercises.errors import DrillConflict, DrillRefused
from exercises.programme import TRAINERS, Drill, DrillKind, DrillRun, RunStatus, get
from storage.types import UTCDateTime

__all__ = [
    "AUDIENCES",
    "CHANNELS",
    "EXPECTED_KINDS",
    "FIRST_OFFICIALS_BULLETIN",
    "Inject",
    "InjectSpec",
    "add",
    "change",
    "of_drill",
    "one",
    "remove",
]

MAX_INJECTS = 200
MAX_OFFSET = 24 * 60
AUDIENCES = ("officials", "media", "public", "staff")
CHANNELS = (AddressKind.EMAIL.value, AddressKind.SMS.value, AddressKind.TELEGRAM.value)
FIRST_OFFICIALS_BULLETIN = "first_officials_bulletin"
EXPECTED_KINDS: dict[str, str] = {FIRST_OFFICIALS_BULLETIN: "Premier communiqué aux élus publié"}


class Inject(SQLModel, table=True):
    __tablename__ = "exercise_inject"

    id: int | None = Field(default=None, primary_key=True)
    drill_id: int = Field(foreign_key="exercise_drill.id", index=True)
    offset_min: int
    audience: str | None = Field(default=None, max_length=20)
    contact_id: int | None = None
    channel: str | None = Field(default=None, max_length=20)
    text: str = Field(max_length=2000)
    expected_action: str | None = Field(default=None, max_length=500)
    expected_kind: str | None = Field(default=None, max_length=40)
    deadline_min: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)

    def target_label(self, names: dict[int, str]) -> str:
        if self.contact_id is not None:
            return names.get(self.contact_id, f"participant n° {self.contact_id}")
        audience = self.audience or ""
        return f"tous les participants, en tant que {AUDIENCE_LABELS.get(audience, audience)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class InjectSpec:
    """What a trainer writes (the API's body, checked by `checked`)."""

    offset_min: int
    text: str
    audience: str | None = None
    contact: int | None = None
    channel: str | None = None
    expected_action: str | None = None
    expected_kind: str | None = None
    deadline_min: int | None = None


def _refuse(code: str, message: str) -> DrillRefused:
    return DrillRefused(code, message)


def _checked_target(spec: InjectSpec, drill: Drill) -> None:
    if (spec.audience is None) == (spec.contact is None):
        raise _refuse(
            "inject_target", "Un inject vise soit un public joué, soit un participant nommé."
        )
    if spec.audience is not None and spec.audience not in AUDIENCES:
        raise _refuse("inject_audience", f"Public inconnu pour un inject : « {spec.audience} ».")
    if spec.contact is not None and spec.contact not in drill.participants:
        raise _refuse(
            "inject_contact", "Le destinataire d'un inject doit être un participant de l'exercice."
        )
    if spec.channel is not None and spec.channel not in CHANNELS:
        raise _refuse("inject_channel", f"Canal inconnu pour un inject : « {spec.channel} ».")


def checked(spec: InjectSpec, drill: Drill) -> dict[str, Any]:
    """The inject's columns, or 422 with the reason (French)."""
    if drill.kind != DrillKind.CRISIS:
        raise _refuse("inject_kind", "Seul un exercice de crise a des injects de scénario.")
    if not 0 <= spec.offset_min <= MAX_OFFSET:
        raise _refuse("inject_offset", "Le décalage d'un inject va de 0 à 1 440 minutes.")
    _checked_target(spec, drill)
    text = spec.text.strip()
    if visible_length(text) < 3 or len(text) > 2000:
        raise _refuse("inject_text", "Le texte d'un inject compte de 3 à 2 000 caractères.")
    expected = (spec.expected_action or "").strip() or None
    if expected is not None and len(expected) > 500:
        raise _refuse("inject_expected", "L'action attendue tient en 500 caractères.")
    if spec.expected_kind is not None and spec.expected_kind not in EXPECTED_KINDS:
        raise _refuse("inject_expected_kind", "Action attendue automatique inconnue.")
    if expected is None and spec.expected_kind is not None:
        expected = EXPECTED_KINDS[spec.expected_kind]
    if spec.deadline_min is not None:
        if not 1 <= spec.deadline_min <= MAX_OFFSET:
            raise _refuse("inject_deadline", "Le délai de réaction va de 1 à 1 440 minutes.")
        if expected is None:
            raise _refuse("inject_deadline", "Un délai de réaction suppose une action attendue.")
    return {
        "offset_min": spec.offset_min,
        "audience": spec.audience,
        "contact_id": spec.contact,
        "channel": spec.channel,
        "text": text,
        "expected_action": expected,
        "expected_kind": spec.expected_kind,
        "deadline_min": spec.deadline_min,
    }


async def of_drill(session: AsyncSession, *, drill_id: int) -> list[Inject]:
    """The drill's injects in the order they play (offset, then as written)."""
    query = (
        select(Inject)
        .where(Inject.drill_id == drill_id)
        .order_by(col(Inject.offset_min), col(Inject.id))
    )
    return list((await session.exec(query)).all())


async def _editable(session: AsyncSession, *, actor: Actor, drill_id: int) -> Drill:
    actor.require(*TRAINERS, action="écrire le scénario d'un exercice")
    drill = await get(session, drill_id=drill_id, for_update=True)
    query = select(DrillRun.id).where(
        DrillRun.drill_id == drill_id, DrillRun.status == RunStatus.RUNNING
    )
    if (await session.exec(query)).first() is not None:
        raise DrillConflict(
            "drill_running", "Une séance est en cours : son scénario ne peut plus changer."
        )
    return drill


async def one(session: AsyncSession, *, drill_id: int, inject_id: int) -> Inject:
    found = await session.get(Inject, inject_id)
    if found is None or found.drill_id != drill_id:
        raise NotFound("inject_not_found", f"Aucun inject n° {inject_id} pour cet exercice.")
    return found


async def _journal(
    session: AsyncSession, action: str, *, actor: Actor, inject: Inject, now: datetime
) -> None:
    await journal.append(
        session,
        actor=actor,
        action=action,
        now=now,
        payload={
            "drill_id": inject.drill_id,
            "inject_id": inject.id,
            "offset_min": inject.offset_min,
        },
    )


async def add(
    session: AsyncSession, *, actor: Actor, drill_id: int, spec: InjectSpec, now: datetime
) -> Inject:
    drill = await _editable(session, actor=actor, drill_id=drill_id)
    fields = checked(spec, drill)
    if len(await of_drill(session, drill_id=drill_id)) >= MAX_INJECTS:
        raise _refuse("too_many_injects", f"Un exercice compte au plus {MAX_INJECTS} injects.")
    inject = Inject(drill_id=drill_id, created_at=now, created_by=actor.login, **fields)
    session.add(inject)
    await session.flush()
    await _journal(session, "exercise.inject_added", actor=actor, inject=inject, now=now)
    return inject


async def change(
    session: AsyncSession,
    *,
    actor: Actor,
    drill_id: int,
    inject_id: int,
    spec: InjectSpec,
    now: datetime,
) -> Inject:
    drill = await _editable(session, actor=actor, drill_id=drill_id)
    inject = await one(session, drill_id=drill_id, inject_id=inject_id)
    for name, value in checked(spec, drill).items():
        setattr(inject, name, value)
    session.add(inject)
    await _journal(session, "exercise.inject_changed", actor=actor, inject=inject, now=now)
    return inject


async def remove(
    session: AsyncSession, *, actor: Actor, drill_id: int, inject_id: int, now: datetime
) -> Inject:
    """The inject deleted (the runs that played it keep what was sent)."""
    await _editable(session, actor=actor, drill_id=drill_id)
    inject = await one(session, drill_id=drill_id, inject_id=inject_id)
    await _journal(session, "exercise.inject_removed", actor=actor, inject=inject, now=now)
    await session.delete(inject)
    await session.flush()
    return inject


def view(inject: Inject, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": inject.id,
        "offset_min": inject.offset_min,
        "audience": inject.audience,
        "contact": inject.contact_id,
        "target_label": inject.target_label(names),
        "channel": inject.channel,
        "text": inject.text,
        "expected_action": inject.expected_action,
        "expected_kind": inject.expected_kind,
        "deadline_min": inject.deadline_min,
    }
