"""The one next action the crisis page puts first, read from the crisis' tracks.

Pure: the page passes what it knows (tracks, clock deadlines, audiences already informed since
the COD, the playbook's first-information templates) and gets one step to show on top.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from crisis.cell.tracks import CellTrack, CodTrack, Tracks

FIRST_AUDIENCES: tuple[tuple[str, str], ...] = (
    ("officials", "aux élus"),
    ("media", "aux médias"),
    ("public", "au public"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class NextStep:
    key: str
    title: str
    detail: str
    href: str | None = None
    clock: str | None = None
    deadline: datetime | None = None

    def minutes_left(self, now: datetime) -> int | None:
        """Whole minutes to the deadline (negative once past it)."""
        if self.deadline is None:
            return None
        return int((self.deadline - now).total_seconds() // 60)


def next_step(
    *,
    crisis_id: int,
    tracks: Tracks,
    deadlines: Mapping[str, datetime],
    informed: Collection[str],
    templates: Mapping[str, str],
) -> NextStep | None:
    """`deadlines` by clock code (running clocks only), `informed` the audiences a bulletin
    was published to since the COD, `templates` the first-information template per audience."""
    if not tracks.open:
        return None
    if tracks.cell == CellTrack.NOT_ORDERED:
        return NextStep(
            key="order_cell",
            title="Ordonner la cellule de communication",
            detail="L'astreinte est appelée dès l'ordre ; l'ES47 démarre.",
            href="#action-cellule",
        )
    if tracks.cod == CodTrack.ACTIVATED and "ES48" in deadlines:
        first = _first_bulletin(
            crisis_id=crisis_id, informed=informed, templates=templates, due=deadlines["ES48"]
        )
        if first is not None:
            return first
    if tracks.cell == CellTrack.ORDERED:
        return NextStep(
            key="complete_cell",
            title="Compléter la cellule",
            detail="Enregistrez les présences puis déclarez la cellule opérationnelle dès "
            "l'effectif minimal atteint.",
            href="#action-presence",
            clock="ES47" if "ES47" in deadlines else None,
            deadline=deadlines.get("ES47"),
        )
    if tracks.cod == CodTrack.NOT_ACTIVATED:
        return NextStep(
            key="record_cod",
            title="Enregistrer l'activation du COD dès la décision du préfet",
            detail="Avec sa référence SYNERGI : l'ES48 démarre à l'heure de la décision.",
            href="#action-cod",
        )
    return NextStep(
        key="follow_up",
        title="Suivre les envois et préparer le prochain point",
        detail="Appelez les élus non joints et publiez le point de situation annoncé.",
        href=f"/evenements/{crisis_id}/communiques/nouveau",
    )


def _first_bulletin(
    *, crisis_id: int, informed: Collection[str], templates: Mapping[str, str], due: datetime
) -> NextStep | None:
    """The first-information bulletin to write for the first audience not yet informed."""
    for audience, words in FIRST_AUDIENCES:
        if audience in informed:
            continue
        template = templates.get(audience)
        href = f"/evenements/{crisis_id}/communiques/nouveau"
        return NextStep(
            key=f"first_bulletin_{audience}",
            title=f"Rédiger le premier communiqué {words}" + (" — modèle prêt" if template else ""),
            detail="L'ES48 demande d'informer élus, médias et public dans l'heure qui suit "
            "l'activation du COD.",
            href=f"{href}?modele={template}" if template else href,
            clock="ES48",
            deadline=due,
        )
    return None
