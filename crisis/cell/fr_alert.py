"""The FR-Alert hand-off: Tocsin prepares, a person broadcasts on the State's portal, Tocsin
records.

FR-Alert (cell broadcast to every phone of an area) has no API Tocsin may call: an authorised
person triggers it on the State's portal. For a bulletin published to the public, Tocsin
prepares the text within `max_chars` (the `TOCSIN_FR_ALERT_MAX_CHARS` setting, see
docs/public.md), the communes (INSEE codes and names) and the level (the playbook's CAP
severity); the prefect records the broadcast — the portal's reference and its time — once per
bulletin, as a journal entry (`ACTION`). An exercise bulletin is refused: an exercise never
reaches the portal of the real alert. A recorded broadcast covers ES48's public audience at
its broadcast time (`first_broadcast`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor
from crisis.bulletin.record import Bulletin
from crisis.bulletin.record import get as get_bulletin
from crisis.errors import Conflict, InvalidInput
from crisis.public import reading
from crisis.public.bulletin import Commune, PublicBulletin
from playbooks import Playbook

ACTION = "bulletin.fr_alert"
ELLIPSIS = "…"
REFERENCE_MAX = 100
LEVELS = {
    "Extreme": "Extrême",
    "Severe": "Sévère",
    "Moderate": "Modérée",
    "Minor": "Mineure",
    "Unknown": "Inconnue",
}


@dataclass(frozen=True, slots=True)
class Prepared:
    bulletin_id: int
    text: str
    max_chars: int
    truncated: bool
    communes: tuple[Commune, ...]
    severity: str

    @property
    def length(self) -> int:
        return len(self.text)

    @property
    def level(self) -> str:
        return LEVELS.get(self.severity, self.severity)

    def view(self) -> dict[str, Any]:
        return {
            "bulletin_id": self.bulletin_id,
            "text": self.text,
            "length": self.length,
            "max_chars": self.max_chars,
            "truncated": self.truncated,
            "communes": [{"code": c.code, "name": c.name} for c in self.communes],
            "level": self.level,
            "severity": self.severity,
        }


def alert_text(title: str, body: str, *, max_chars: int) -> tuple[str, bool]:
    """The title then the body on one line each, spaces collapsed; cut at a word and ended by
    « … » when longer than `max_chars`. (the text, whether it was cut)."""
    lines = [re.sub(r"\s+", " ", part).strip() for part in (title, body)]
    text = "\n".join(line for line in lines if line)
    if len(text) <= max_chars:
        return text, False
    cut = text[: max_chars - len(ELLIPSIS)]
    at_word = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return at_word.rstrip(" ,;:.\n") + ELLIPSIS, True


async def _public(
    session: AsyncSession, bulletin: Bulletin, playbooks: Mapping[str, Playbook]
) -> PublicBulletin:
    """The bulletin as the public reads it; refused when it is an exercise or not public."""
    if bulletin.exercise:
        raise Conflict(
            "fr_alert_exercise",
            "Un communiqué d'exercice ne passe jamais par FR-Alert : "
            "aucune diffusion à enregistrer.",
        )
    found = await reading.one(
        session, public_id=bulletin.public_id, exercise=False, playbooks=playbooks
    )
    if found is None:
        raise Conflict(
            "fr_alert_not_public",
            "FR-Alert ne relaie qu'un communiqué publié à destination de la population.",
        )
    return found


async def prepare(
    session: AsyncSession, *, bulletin_id: int, playbooks: Mapping[str, Playbook], max_chars: int
) -> Prepared:
    bulletin = await get_bulletin(session, bulletin_id=bulletin_id)
    public = await _public(session, bulletin, playbooks)
    text, truncated = alert_text(public.title, public.body, max_chars=max_chars)
    return Prepared(bulletin_id, text, max_chars, truncated, public.communes, public.cap.severity)


async def checklist(
    session: AsyncSession, *, bulletin_id: int, playbooks: Mapping[str, Playbook], max_chars: int
) -> tuple[Bulletin, Prepared, dict[str, Any] | None]:
    """What the prefect's checklist shows: the bulletin, its prepared text, its broadcast."""
    prepared = await prepare(
        session, bulletin_id=bulletin_id, playbooks=playbooks, max_chars=max_chars
    )
    bulletin = await get_bulletin(session, bulletin_id=bulletin_id)
    return bulletin, prepared, await recorded(session, bulletin=bulletin)


async def _entries(session: AsyncSession, *, crisis_id: int) -> list[journal.JournalEntry]:
    query = select(journal.JournalEntry).where(
        journal.JournalEntry.action == ACTION, journal.JournalEntry.crisis_id == crisis_id
    )
    return list((await session.exec(query.order_by(col(journal.JournalEntry.id)))).all())


async def recorded(session: AsyncSession, *, bulletin: Bulletin) -> dict[str, Any] | None:
    """The broadcast recorded for this bulletin (the entry's payload, with who and when)."""
    for entry in await _entries(session, crisis_id=bulletin.crisis_id):
        payload = json.loads(entry.payload)
        if payload.get("bulletin_id") == bulletin.id:
            return {**payload, "recorded_by": entry.actor, "recorded_at": entry.at.isoformat()}
    return None


async def record(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    bulletin_id: int,
    reference: str,
    broadcast_at: datetime,
    playbooks: Mapping[str, Playbook],
    max_chars: int,
) -> dict[str, Any]:
    """Record, once, that the prefect broadcast this bulletin on the FR-Alert portal."""
    reference = reference.strip()
    if not reference or len(reference) > REFERENCE_MAX:
        raise InvalidInput(
            "fr_alert_reference",
            "Indiquez la référence donnée par le portail FR-Alert "
            f"({REFERENCE_MAX} caractères au plus).",
        )
    if broadcast_at.tzinfo is None:
        raise InvalidInput("fr_alert_time", "L'heure de diffusion doit indiquer son fuseau.")
    if broadcast_at > now:
        raise InvalidInput(
            "fr_alert_future", "L'heure de diffusion ne peut pas être dans le futur."
        )
    bulletin = await get_bulletin(session, bulletin_id=bulletin_id, lock=True)
    prepared = await prepare(
        session, bulletin_id=bulletin_id, playbooks=playbooks, max_chars=max_chars
    )
    published_at = bulletin.published_at
    # The portal and the form give the minute: a broadcast in the minute of publication is after it.
    if published_at is not None and broadcast_at < published_at.replace(second=0, microsecond=0):
        raise InvalidInput(
            "fr_alert_before_publication",
            "L'heure de diffusion précède la publication du communiqué.",
        )
    if await recorded(session, bulletin=bulletin) is not None:
        raise Conflict(
            "fr_alert_already_recorded",
            "La diffusion FR-Alert de ce communiqué est déjà enregistrée.",
        )
    payload = {
        "bulletin_id": bulletin_id,
        "reference": reference,
        "broadcast_at": broadcast_at.isoformat(),
        "text": prepared.text,
        "level": prepared.level,
        "communes": [c.code for c in prepared.communes],
    }
    await journal.append(
        session, actor=actor, action=ACTION, now=now, crisis_id=bulletin.crisis_id, payload=payload
    )
    return {**payload, "recorded_by": actor.login, "recorded_at": now.isoformat()}


async def first_broadcast(
    session: AsyncSession, *, crisis_id: int, since: datetime, exercise: bool
) -> datetime | None:
    """The earliest FR-Alert broadcast recorded for the crisis at or after `since` (ES48's
    public audience); none in an exercise, which never broadcasts."""
    if exercise:
        return None
    stamps = [
        json.loads(e.payload).get("broadcast_at")
        for e in await _entries(session, crisis_id=crisis_id)
    ]
    instants = [datetime.fromisoformat(s) for s in stamps if isinstance(s, str)]
    return min((at for at in instants if at >= since), default=None)
