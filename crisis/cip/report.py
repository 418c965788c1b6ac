"""The CIP's report for the crisis summary (page, HTML file and PDF): its dates, its calls,
the waiting-time distribution, the topics, the follow-ups left open, the operators'
debriefs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.cip import calls, debrief, figures, numbers, record, requests
from crisis.cip.calls import CipCall
from crisis.cip.vocabulary import TOPIC_LABELS
from playbooks.formatting import french_clock, french_day

WAIT_BUCKETS = ((30, "moins de 30 s"), (60, "30 s à 1 min"), (120, "1 à 2 min"))


def _at(moment: datetime) -> str:
    return f"{french_day(moment)} à {french_clock(moment)}"


def waiting_distribution(logged: Sequence[CipCall]) -> str:
    """« moins de 30 s : 3 · 30 s à 1 min : 1 · … · non décrochés : 1 »."""
    counts = {label: 0 for _, label in WAIT_BUCKETS} | {"plus de 2 min": 0, "non décrochés": 0}
    for call in logged:
        if call.answered_at is None:
            counts["non décrochés"] += 1
            continue
        wait = (call.answered_at - call.received_at).total_seconds()
        label = next((lab for limit, lab in WAIT_BUCKETS if wait < limit), "plus de 2 min")
        counts[label] += 1
    return " · ".join(f"{label} : {n}" for label, n in counts.items())


async def lines(
    session: AsyncSession, *, crisis_id: int, now: datetime | None = None
) -> tuple[tuple[str, str], ...]:
    """(heading, text) lines; none when no CIP was ordered. `now` decides which open written
    requests are late (default: the CIP's close, else its order)."""
    cip = await record.find(session, crisis_id=crisis_id)
    if cip is None:
        return ()
    dates = f"numéro {numbers.shown(cip.number)}, ordonnée {_at(cip.ordered_at)}"
    if cip.opened_at:
        dates += f", ouverte {_at(cip.opened_at)}"
    if cip.closed_at:
        dates += f", fermée {_at(cip.closed_at)}"
    logged = await calls.for_crisis(session, crisis_id=crisis_id)
    found = figures.of(logged)
    at = now or cip.closed_at or cip.ordered_at
    waits = "—"
    if found.wait_p50_s is not None:
        waits = f"médiane {found.wait_p50_s} s, 90 % sous {found.wait_p90_s} s"
    topics = ", ".join(f"{TOPIC_LABELS.get(t, t)} ({n})" for t, n in found.topics) or "—"
    debriefs = tuple(
        (f"Débriefing de {d.name}", debrief_text(d))
        for d in await debrief.for_crisis(session, crisis_id=crisis_id)
    )
    return (
        ("CIP", dates),
        ("Appels à la CIP", f"{found.calls} appel(s) ; attente {waits}"),
        ("Attente avant décroché", waiting_distribution(logged)),
        ("Thèmes des appels", topics),
        ("Rappels restés à faire", str(found.open_follow_ups)),
        ("Questions sans réponse de la FAQ", str(len(found.suggestions))),
        ("Demandes écrites", await written_line(session, crisis_id=crisis_id, at=at)),
        *debriefs,
    )


async def written_line(session: AsyncSession, *, crisis_id: int, at: datetime) -> str:
    """« 3 reçue(s), 2 répondue(s) (réponse médiane 40 min), 1 en retard, 1 restée(s)
    ouverte(s) »."""
    found = requests.tally(await requests.for_crisis(session, crisis_id=crisis_id), now=at)
    median = found.median_response_minutes
    answered = f"{found.answered} répondue(s)"
    if median is not None:
        answered += f" (réponse médiane {median} min)"
    return (
        f"{found.received} reçue(s), {answered}, {found.overdue} en retard, "
        f"{found.open} restée(s) ouverte(s)"
    )


def debrief_text(written: debrief.CipDebrief) -> str:
    """« Appels difficiles : … — Besoins pour la prochaine fois : … »."""
    return (
        f"Appels difficiles : {written.hard_calls or '—'} — "
        f"Besoins pour la prochaine fois : {written.needs or '—'}"
    )
