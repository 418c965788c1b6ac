"""The cabinet's own entries in the main courante: what it decided, learnt and did.

The journal records what Tocsin did; the cabinet and the cell write, in the same chain, a
decision, an item of information received or an action taken — with the time of the fact (in
the past, never in the future), its author (the user) and its source (« appel du maire
d'Abbeville », « SYNERGI »). An entry is a journal entry like any other (`cabinet.<kind>`), so
`tocsin journal verify` covers it and the summary lists it.

Who writes: the cabinet and the cell staff (prefect, validator, communicator, CIP operator);
a trainer only in an exercise, where he plays the cabinet's part; an administrator never.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor, Role
from crisis.cell import crises
from crisis.errors import Conflict, InvalidInput
from crisis.journal import JournalEntry
from crisis.journal_details import searchable_text
from crisis.text import INVISIBLE
from crisis.vocabulary import CabinetEntryKind as EntryKind

MAX_TEXT = 4000
MAX_SOURCE = 300
WRITERS = (Role.PREFECT, Role.VALIDATOR, Role.COMMUNICATOR, Role.OPERATOR)
"""Who writes in a real crisis; a trainer also writes in an exercise."""
ACTION_PREFIX = "cabinet."


def action_of(kind: EntryKind) -> str:
    return f"{ACTION_PREFIX}{kind.value}"


CABINET_ACTIONS = frozenset(action_of(k) for k in EntryKind)


@dataclass(frozen=True, slots=True)
class CabinetNote:
    kind: EntryKind
    text: str
    source: str | None = None
    occurred_at: datetime | None = None


def may_write(actor: Actor, *, exercise: bool) -> bool:
    """The page asks this before offering the form; `record` enforces it."""
    return bool(actor.roles & set(WRITERS)) or (exercise and Role.TRAINER in actor.roles)


def _require_writer(actor: Actor, *, exercise: bool) -> None:
    if not may_write(actor, exercise=exercise):
        actor.require(*WRITERS, action="écrire dans la main courante")


def _checked_text(note: CabinetNote) -> tuple[str, str | None]:
    text = note.text.strip()
    if not INVISIBLE.sub("", text):
        raise InvalidInput("text_empty", "Écrivez le texte de l'entrée : il est vide.")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            "text_too_long",
            f"Le texte fait {len(text)} caractères : {MAX_TEXT} au plus.",
            {"length": len(text), "max": MAX_TEXT},
        )
    source = " ".join((note.source or "").split()) or None
    if source and len(source) > MAX_SOURCE:
        raise InvalidInput("source_too_long", f"La source fait plus de {MAX_SOURCE} caractères.")
    return text, source


def _checked_time(occurred_at: datetime | None, now: datetime) -> datetime:
    if occurred_at is None:
        return now
    if occurred_at.utcoffset() is None:
        raise InvalidInput(
            "occurred_at_invalid", "Indiquez l'heure du fait avec son fuseau horaire."
        )
    if occurred_at > now:
        raise InvalidInput(
            "occurred_at_in_future", "L'heure du fait ne peut pas être dans le futur."
        )
    return occurred_at.astimezone(UTC)


async def record(
    session: AsyncSession, *, actor: Actor, crisis_id: int, note: CabinetNote, now: datetime
) -> JournalEntry:
    """Append the cabinet's entry to the crisis' chain; refused on a closed crisis."""
    crisis = await crises.get(session, crisis_id=crisis_id, for_update=True)
    _require_writer(actor, exercise=crisis.is_exercise)
    text, source = _checked_text(note)
    occurred_at = _checked_time(note.occurred_at, now)
    if not crisis.is_open:
        raise Conflict(
            "crisis_closed",
            "L'événement est clos : sa main courante ne reçoit plus d'entrée.",
            {"status": crisis.status},
        )
    return await journal.append(
        session,
        actor=actor,
        action=action_of(note.kind),
        now=now,
        crisis_id=crisis_id,
        payload={"text": text, "occurred_at": occurred_at.isoformat(), "source": source},
    )


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """What the crisis journal page and `GET …/journal` narrow the entries to.

    `kind`: a cabinet kind, or `cabinet` for all three; `author`: the login of who wrote;
    `q`: words found, ignoring case, in the entry as shown (its label, its detail, its author).
    """

    kind: EntryKind | None = None
    cabinet_only: bool = False
    author: str | None = None
    q: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.kind or self.cabinet_only or self.author or self.q)


def parse_filter(kind: str | None, author: str | None, q: str | None) -> JournalFilter:
    kind = (kind or "").strip()
    if kind and kind != "cabinet" and kind not in EntryKind.__members__.values():
        raise InvalidInput(
            "kind_invalid",
            f"Type d'entrée inconnu : « {kind} » (décision, information, action ou cabinet).",
        )
    return JournalFilter(
        kind=EntryKind(kind) if kind and kind != "cabinet" else None,
        cabinet_only=kind == "cabinet",
        author=(author or "").strip() or None,
        q=" ".join((q or "").split()) or None,
    )


def _keeps(entry: JournalEntry, wanted: JournalFilter) -> bool:
    if wanted.kind is not None and entry.action != action_of(wanted.kind):
        return False
    if wanted.cabinet_only and entry.action not in CABINET_ACTIONS:
        return False
    if wanted.author is not None and entry.actor.casefold() != wanted.author.casefold():
        return False
    if wanted.q is None:
        return True
    shown = searchable_text(entry.action, entry.actor, json.loads(entry.payload)).casefold()
    return all(word in shown for word in wanted.q.casefold().split())


def narrowed(entries: Iterable[JournalEntry], wanted: JournalFilter) -> list[JournalEntry]:
    """The entries `wanted` keeps — applied to entries as the viewer sees them (`privacy`),
    so that a search never reveals a withheld name."""
    return [e for e in entries if _keeps(e, wanted)]


def authors(entries: Iterable[JournalEntry]) -> list[str]:
    """Who wrote cabinet entries, for the author filter."""
    return sorted({e.actor for e in entries if e.action in CABINET_ACTIONS})
