from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crisis.cell.next_step import next_step
from crisis.cell.tracks import CellTrack, CodTrack, Tracks

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
TEMPLATES = {"officials": "premiere-information-elus", "media": "premiere-information-medias"}


def _step(tracks: Tracks, *, informed: set[str] | None = None, deadlines=None):  # type: ignore[no-untyped-def]
    return next_step(
        crisis_id=7,
        tracks=tracks,
        deadlines=deadlines or {},
        informed=informed or set(),
        templates=TEMPLATES,
    )


def test_a_closed_crisis_has_no_next_step() -> None:
    closed = Tracks(open=False, cell=CellTrack.OPERATIONAL, cod=CodTrack.ACTIVATED)
    assert _step(closed) is None


def test_before_anything_the_cell_is_ordered() -> None:
    step = _step(Tracks(open=True, cell=CellTrack.NOT_ORDERED, cod=CodTrack.NOT_ACTIVATED))
    assert step is not None and step.title == "Ordonner la cellule de communication"


def test_after_the_cod_the_first_bulletin_to_the_officials_comes_with_its_template_and_es48() -> (
    None
):
    es48 = NOW + timedelta(minutes=42)
    tracks = Tracks(open=True, cell=CellTrack.ORDERED, cod=CodTrack.ACTIVATED)
    step = _step(tracks, deadlines={"ES48": es48, "ES47": NOW})
    assert step is not None
    assert step.title == "Rédiger le premier communiqué aux élus — modèle prêt"
    assert step.href == "/evenements/7/communiques/nouveau?modele=premiere-information-elus"
    assert (step.clock, step.deadline, step.minutes_left(NOW)) == ("ES48", es48, 42)


def test_once_the_officials_are_informed_the_media_then_the_public_come_next() -> None:
    tracks = Tracks(open=True, cell=CellTrack.OPERATIONAL, cod=CodTrack.ACTIVATED)
    deadlines = {"ES48": NOW}
    media = _step(tracks, informed={"officials"}, deadlines=deadlines)
    assert media is not None and media.key == "first_bulletin_media"
    public = _step(tracks, informed={"officials", "media"}, deadlines=deadlines)
    assert public is not None and public.title == "Rédiger le premier communiqué au public"
    assert public.href == "/evenements/7/communiques/nouveau"  # no public template: blank form


def test_while_the_cell_is_staffed_and_no_cod_the_cell_is_completed_against_es47() -> None:
    es47 = NOW + timedelta(minutes=20)
    tracks = Tracks(open=True, cell=CellTrack.ORDERED, cod=CodTrack.NOT_ACTIVATED)
    step = _step(tracks, deadlines={"ES47": es47})
    assert step is not None and step.title == "Compléter la cellule"
    assert (step.clock, step.minutes_left(NOW - timedelta(minutes=5))) == ("ES47", 25)


def test_an_operational_cell_waits_for_the_cod_then_follows_up() -> None:
    waiting = _step(Tracks(open=True, cell=CellTrack.OPERATIONAL, cod=CodTrack.NOT_ACTIVATED))
    assert waiting is not None and waiting.key == "record_cod"
    done = _step(Tracks(open=True, cell=CellTrack.OPERATIONAL, cod=CodTrack.ACTIVATED))
    assert done is not None and done.key == "follow_up"  # ES48 met: no running deadline
