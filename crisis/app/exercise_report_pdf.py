"""A drill run's report (RETEX) as an A4 PDF in French, drawn like the crisis summary
(`crisis.app.summary_pdf`: fpdf2, DejaVu Sans) with the timeline chart of
`crisis.app.exercise_chart`. Takes the view of `crisis.app.exercise_report_view.shown`."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from crisis.app.exercise_chart import png
from crisis.app.summary_pdf import WIDTH, Document, exercise_banner

__all__ = ["render"]


def _section(
    pdf: Document,
    title: str,
    empty: str,
    columns: Sequence[tuple[str, float]],
    rows: Sequence[Sequence[str]],
) -> None:
    """A heading, then the table of `rows` under `columns` (name, width), or `empty`."""
    pdf.heading(title)
    if not rows:
        pdf.put(WIDTH, empty)
        return
    pdf.grid([w for _, w in columns], [name for name, _ in columns], rows)


def _clock_result(c: dict[str, Any]) -> str:
    late = f" ({c['late_by_seconds_text']} de retard)" if c["late_by_seconds"] else ""
    return f"{c['status_label']}{late}"


def _clocks(pdf: Document, report: dict[str, Any]) -> None:
    columns = [
        ("Horloge", 18),
        ("Départ", 32),
        ("Échéance", 32),
        ("Atteint", 32),
        ("Délai", 28),
        ("Résultat", 38),
    ]
    rows = [
        [
            c["code"],
            c["started_at_local"],
            c["deadline_local"],
            c["met_at_local"],
            c["met_after_seconds_text"],
            _clock_result(c),
        ]
        for c in report["clocks"]
    ]
    _section(pdf, "Engagements horaires", "Aucune horloge pour cette séance.", columns, rows)


def _audiences(pdf: Document, report: dict[str, Any]) -> None:
    columns = [
        ("Public", 28),
        ("1er communiqué remis", 36),
        ("Délai", 26),
        ("Envois", 18),
        ("Remis", 24),
        ("Acquittés", 24),
        ("Échecs", 24),
    ]
    rows = [
        [
            a["audience_label"],
            a["first_delivered_at_local"],
            a["first_delivered_after_seconds_text"],
            str(a["deliveries"]),
            a["delivery_rate_text"],
            a["acknowledgement_rate_text"],
            str(a["failed"]),
        ]
        for a in report["audiences"]
    ]
    _section(
        pdf,
        "Communiqués : premier envoi, remise et acquittement par public",
        "Aucun communiqué envoyé pendant la séance.",
        columns,
        rows,
    )
    if rows:
        totals = report["totals"]
        pdf.ln(1)
        pdf.put(
            WIDTH,
            f"Ensemble : {totals['deliveries']} envois, {totals['delivery_rate_text']} remis, "
            f"{totals['acknowledgement_rate_text']} acquittés.",
        )


def _answers(pdf: Document, report: dict[str, Any]) -> None:
    columns = [
        ("Rôle", 60),
        ("Appelés", 25),
        ("Ont répondu", 30),
        ("Délai médian", 32),
        ("Délai maximal", 33),
    ]
    rows = [
        [
            r["duty_role_label"],
            str(r["paged"]),
            str(r["answered"]),
            r["median_seconds_text"],
            r["max_seconds_text"],
        ]
        for r in report["by_role"]
    ]
    _section(
        pdf,
        "Réponses à l'appel d'astreinte",
        "Personne n'a été appelé pendant la séance.",
        columns,
        rows,
    )


def _reachability(pdf: Document, report: dict[str, Any]) -> None:
    """The officials whose every channel failed, those reached who never answered « OK », and
    those who did, with counts: as on the report page."""
    reach = report.get("reachability")
    if not reach:
        return
    pdf.heading("Joignabilité des élus")
    unreachable, silent = reach["unreachable"], reach["silent"]
    pdf.put(
        WIDTH,
        f"{reach['answered']} élu(s) sur {reach['officials']} ont répondu « OK » ; "
        f"{len(unreachable)} injoignable(s) sur tous leurs canaux ; "
        f"{len(silent)} joint(s) sans réponse.",
    )
    pdf.ln(1)
    rows = [[p["name"], "Injoignable sur tous ses canaux", "—"] for p in unreachable]
    rows += [[p["name"], "Joint, sans réponse « OK »", "—"] for p in silent]
    rows += [
        [p["name"], "A répondu « OK »", p.get("answered_at_local") or "—"]
        for p in reach["answered_people"]
    ]
    pdf.grid([70, 70, 40], ["Élu", "Résultat", "Réponse (Paris)"], rows or [["—", "—", "—"]])
    if unreachable or silent:
        pdf.ln(1)
        pdf.put(WIDTH, "Corrigez l'annuaire de ces élus avant une crise.")


def _inject_played(i: dict[str, Any]) -> str:
    if not i["played_at"]:
        return "—"
    by_hand = f" (à la main, {i['released_by']})" if i["released_by"] else ""
    return f"{i['played_at_local']}{by_hand}"


def _injects(pdf: Document, report: dict[str, Any]) -> None:
    lines = report.get("injects") or []
    if not lines:
        return
    columns = [("Décalage", 18), ("Destinataire", 32), ("Texte", 50), ("Joué", 28)]
    columns += [("Action attendue", 24), ("Faite", 28)]
    rows = [
        [
            f"+{i['offset_min']} min",
            i["target"],
            i["text"],
            _inject_played(i),
            i["expected_action"] or "—",
            f"{i['done_at_local'] if i['done_at'] else '—'} — {i['reaction_label']}",
        ]
        for i in lines
    ]
    _section(pdf, "Injects du scénario et réactions", "", columns, rows)


def _feedback(pdf: Document, report: dict[str, Any]) -> None:
    fb = report["feedback"]
    mean = fb["mean_rating"]
    rows = [
        [a["answered_at_local"], str(a["rating"]), a["went_well"] or "—", a["to_improve"] or "—"]
        for a in fb["answers"]
    ]
    columns = [("Reçue", 30), ("Note /5", 18), ("Bien fonctionné", 66), ("À améliorer", 66)]
    _section(pdf, "Retours des participants", "Aucune réponse au questionnaire.", columns, rows)
    if fb["asked"]:
        note = f" ; note moyenne {str(mean).replace('.', ',')} sur 5" if mean is not None else ""
        pdf.put(WIDTH, f"{fb['answered']} réponse(s) sur {fb['asked']} questionnaire(s){note}.")


def _notes(pdf: Document, report: dict[str, Any]) -> None:
    pdf.heading("Notes du formateur")
    written = report["notes"]
    if written is None:
        pdf.put(WIDTH, "Pas de notes.")
        return
    pdf.put(WIDTH, written["text"])
    pdf.ln(1)
    pdf.put(WIDTH, f"Écrites par {written['written_by']} le {written['written_at_local']}.", size=7)


def _chart(pdf: Document, report: dict[str, Any]) -> None:
    image = png(report)
    if image is None:
        return
    pdf.heading("Chronologie en graphique")
    pdf.image(io.BytesIO(image), w=WIDTH)


def _timeline(pdf: Document, report: dict[str, Any]) -> None:
    columns = [("Heure (Paris)", 30), ("Qui", 35), ("Action", 45), ("Détail", 70)]
    rows = [[e["at_local"], e["actor"], e["action_label"], e["detail"]] for e in report["timeline"]]
    _section(pdf, "Chronologie (main courante de la séance)", "Aucune entrée.", columns, rows)
    if len(rows) >= report["timeline_limit"]:
        pdf.put(WIDTH, f"Seules les {report['timeline_limit']} premières entrées sont reprises.")


def render(report: dict[str, Any], *, generated_at: datetime) -> bytes:
    run = report["run"]
    pdf = Document(
        stamp=(
            f"Bilan établi le {report['generated_at_local']}",
            f"Tocsin · exercice n° {report['drill_id']}, séance n° {run['id']}",
        ),
        exercise=True,
    )
    pdf.set_title(f"Bilan d'exercice : {report['title']}")
    pdf.set_author("Préfecture de la Somme")
    pdf.set_creator("Tocsin")
    pdf.set_creation_date(generated_at)
    pdf.add_page()
    exercise_banner(pdf)
    pdf.put(WIDTH, f"Bilan d'exercice (RETEX) : {report['title']}", size=16, bold=True)
    pdf.ln(2)
    stopped = f" — arrêté : {run['stop_reason']}" if run["stop_reason"] else ""
    pdf.grid(
        [40, 140],
        ["Rubrique", "Détail"],
        [
            ["Type", report["kind_label"]],
            ["Lancement", f"{run['launched_at_local']} par {run['launched_by']}"],
            ["Fin", f"{run['ended_at_local']}{stopped}"],
            ["État", run["status_label"]],
        ],
    )
    _clocks(pdf, report)
    _audiences(pdf, report)
    _answers(pdf, report)
    _reachability(pdf, report)
    _injects(pdf, report)
    _feedback(pdf, report)
    _notes(pdf, report)
    _chart(pdf, report)
    _timeline(pdf, report)
    return bytes(pdf.output())
