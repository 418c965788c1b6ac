"""The closing summary as people read it: every French text of the page, the HTML file and
the PDF, built once from `crisis.summary.Summary` so that the three always say the same."""

from __future__ import annotations

import json
from dataclasses import dataclass

from crisis import privacy
from crisis.app.web.templating import format_paris
from crisis.cell.cabinet import CABINET_ACTIONS
from crisis.cell.clocks import ClockState, ClockStatus
from crisis.journal import JournalEntry
from crisis.journal_details import describe, when
from crisis.labels import (
    AUDIENCE_LABELS,
    CLOCK_STATUS_LABELS,
    CLOSED_BEFORE_MET,
    DELIVERY_STATUS_LABELS,
    action_label,
    actor_label,
    kind_label,
)
from crisis.summary import BulletinLine, Summary

EXERCISE_BANNER = "EXERCICE — EXERCICE — EXERCICE"


@dataclass(frozen=True, slots=True)
class ClockRow:
    code: str
    status: str
    started: str
    deadline: str
    reached: str
    result: str
    alerts: str


@dataclass(frozen=True, slots=True)
class BulletinRow:
    number: int
    title: str
    published: str
    deliveries: int
    figures: str


@dataclass(frozen=True, slots=True)
class TimelineRow:
    at: str
    actor: str
    action: str
    detail: str


@dataclass(frozen=True, slots=True)
class CabinetRow:
    """One of the cabinet's own entries: a decision, an information, an action."""

    occurred: str
    kind: str
    text: str
    source: str
    author: str
    written: str


@dataclass(frozen=True, slots=True)
class SummaryView:
    crisis_id: int
    title: str
    exercise: bool
    generated: str
    facts: list[tuple[str, str]]
    clocks: list[ClockRow]
    bulletins: list[BulletinRow]
    statuses: list[str]
    totals: str
    audiences: list[tuple[str, list[int]]]
    others: str
    cabinet: list[CabinetRow]
    timeline: list[TimelineRow]
    last_hash: str
    checkpoint: list[tuple[str, str]]  # the latest signed checkpoint, or one line saying none


NO_CHECKPOINT = (
    "Aucun point de contrôle signé n'a été écrit pour cet événement : la main courante "
    "n'est pas ancrée hors de la base."
)


def _checkpoint(summary: Summary) -> list[tuple[str, str]]:
    record = summary.checkpoint
    if record is None:
        return [("Point de contrôle", NO_CHECKPOINT)]
    return [
        ("Point de contrôle", f"{format_paris(record.at)} — fichier {record.file_name}"),
        ("Entrées couvertes", str(record.length)),
        ("Dernière empreinte", record.last_hash),
        ("Clé de signature", record.key_fingerprint),
    ]


def _counts(counts: dict[str, int]) -> str:
    return " · ".join(
        f"{DELIVERY_STATUS_LABELS.get(s, s)} : {n}" for s, n in sorted(counts.items())
    )


def _clock(state: ClockState) -> ClockRow:
    clock = state.clock
    reached = format_paris(state.met_at)
    if state.met_at and clock:
        reached += f" ({int((state.met_at - clock.started_at).total_seconds() // 60)} min)"
    alerts = " ; ".join(
        f"{a.threshold_min} min ({format_paris(a.sent_at)}{', en retard' if a.late else ''})"
        for a in state.alerts
    )
    return ClockRow(
        code=state.code,
        status=state.status.value,
        started=format_paris(clock.started_at if clock else None),
        deadline=format_paris(clock.deadline if clock else None),
        reached=reached,
        # The summary is made at the close: a clock still running then was not kept.
        result=(
            CLOSED_BEFORE_MET
            if state.status == ClockStatus.RUNNING
            else CLOCK_STATUS_LABELS[state.status]
        ),
        alerts=alerts or "—",
    )


def _bulletin(line: BulletinLine) -> BulletinRow:
    figures = " ; ".join(
        f"{AUDIENCE_LABELS.get(audience, audience)} : {_counts(counts)}"
        for audience, counts in sorted(line.by_audience.items())
    )
    return BulletinRow(
        number=line.bulletin_id,
        title=line.title,
        published=format_paris(line.published_at),
        deliveries=line.deliveries,
        figures=figures or "aucun envoi",
    )


def _facts(summary: Summary) -> list[tuple[str, str]]:
    c = summary.crisis
    cell = "non ordonnée"
    if c.cell_ordered_at:
        cell = f"ordonnée {format_paris(c.cell_ordered_at)}"
        if c.cell_operational_at:
            cell += f", opérationnelle {format_paris(c.cell_operational_at)}"
    cod = "non activé"
    if c.cod_activated_at:
        cod = (
            f"activé {format_paris(c.cod_activated_at)} (SYNERGI {c.cod_synergi_ref}, "
            f"décision : {c.cod_decided_by})"
        )
    closed = f"{format_paris(c.closed_at)} par {c.closed_by}" if c.closed_at else "en cours"
    area = ", ".join(summary.communes) or "—"
    return [
        ("Type", kind_label(c.kind)),
        ("Mode", "EXERCICE" if c.is_exercise else "événement réel"),
        (f"Communes ({len(summary.communes)})", area),
        ("Déclaré", f"{format_paris(c.declared_at)} par {c.declared_by}"),
        ("Cellule", cell),
        ("COD", cod),
        *summary.cip_report,
        ("Clos", closed),
    ]


def _timeline_row(entry: JournalEntry) -> TimelineRow:
    detail = describe(entry.action, json.loads(entry.payload))
    shown = [detail.sentence, *(f"{label} : {value}" for label, value in detail.fields)]
    return TimelineRow(
        format_paris(entry.at),
        actor_label(entry.actor),
        action_label(entry.action),
        " — ".join(part for part in shown if part),
    )


def _cabinet_row(entry: JournalEntry) -> CabinetRow:
    payload = json.loads(entry.payload)
    return CabinetRow(
        occurred=when(payload.get("occurred_at")),
        kind=action_label(entry.action),
        text=str(payload.get("text", "")),
        source=str(payload.get("source") or "—"),
        author=actor_label(entry.actor),
        written=format_paris(entry.at),
    )


def _cabinet(timeline: list[JournalEntry]) -> list[CabinetRow]:
    """The cabinet's entries in the order of the facts (a fact may be written later)."""
    entries = [e for e in timeline if e.action in CABINET_ACTIONS]
    entries.sort(key=lambda e: (json.loads(e.payload).get("occurred_at", ""), e.id or 0))
    return [_cabinet_row(e) for e in entries]


def build_view(summary: Summary, *, personal: bool) -> SummaryView:
    """The summary's texts; the journal's details as `crisis.privacy` lets the reader see them."""
    timeline = privacy.journal_entries(summary.timeline, personal=personal)
    statuses = sorted(summary.by_status)
    assert summary.crisis.id is not None
    return SummaryView(
        crisis_id=summary.crisis.id,
        title=summary.crisis.title,
        exercise=summary.crisis.is_exercise,
        generated=format_paris(summary.generated_at),
        facts=_facts(summary),
        clocks=[_clock(s) for s in summary.clocks],
        bulletins=[_bulletin(b) for b in summary.bulletins],
        statuses=[DELIVERY_STATUS_LABELS.get(s, s) for s in statuses],
        totals=_counts(summary.by_status),
        audiences=[
            (AUDIENCE_LABELS.get(audience, audience), [counts.get(s, 0) for s in statuses])
            for audience, counts in sorted(summary.by_audience.items())
        ],
        others=(
            f"Autres messages : {summary.by_purpose.get('page', 0)} appel(s) d'astreinte, "
            f"{summary.by_purpose.get('clock_alert', 0)} alerte(s) d'horloge."
        ),
        cabinet=_cabinet(timeline),
        timeline=[_timeline_row(e) for e in timeline],
        last_hash=summary.timeline[-1].hash if summary.timeline else "—",
        checkpoint=_checkpoint(summary),
    )
