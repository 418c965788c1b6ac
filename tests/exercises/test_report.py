"""The report (RETEX) of a played `crisis` drill: its clocks, first bulletin and rates per
audience, the cell's answer times and its timeline, as the API gives them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import httpx
from pypdf import PdfReader
from sqlmodel import select

from crisis import directory
from crisis.app import demo_exercises, exercise_report_pdf
from crisis.app.db import Database
from crisis.app.exercise_report_view import shown
from crisis.app.settings import Settings
from crisis.cell.clocks import Clock, ClockState, ClockStatus
from exercises import scoring, views
from exercises.programme import DrillRun
from tests.exercises.played import play
from tests.exercises.support import TRAINER
from tests.support import FrozenClock, make_user


async def test_a_played_drill_reports_its_clocks_rates_answers_and_timeline(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    played = await play(client, db, clock)
    answer = await client.get(
        f"/api/v1/exercises/{played.drill_id}/runs/{played.run_id}/report",
        headers=played.prefect.headers,
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    clocks = {c["code"]: c for c in report["clocks"]}
    assert sorted(clocks) == ["ES47", "ES48", "ES50"]
    assert clocks["ES50"]["status"] == "overdue"  # the CIP ordered at 15 h 28, never opened
    assert clocks["ES50"]["started_at"] == clocks["ES47"]["met_at"]
    assert (clocks["ES47"]["status"], clocks["ES47"]["met_after_seconds"]) == ("met", 28 * 60)
    assert clocks["ES48"]["status"] == "overdue" and clocks["ES48"]["met_at"] is None
    audiences = {a["audience"]: a for a in report["audiences"]}
    officials, media = audiences["officials"], audiences["media"]
    assert (officials["deliveries"], officials["delivered"], officials["acknowledged"]) == (3, 2, 1)
    assert (officials["delivery_rate"], officials["acknowledgement_rate"]) == (66.7, 33.3)
    assert officials["first_delivered_after_seconds"] == 35 * 60
    assert (media["delivery_rate"], media["first_delivered_after_seconds"]) == (100.0, 50 * 60)
    assert report["totals"] == {
        "deliveries": 4,
        "delivered": 3,
        "acknowledged": 1,
        "delivery_rate": 75.0,
        "acknowledgement_rate": 25.0,
    }
    [communication] = report["by_role"]
    assert (communication["paged"], communication["answered"]) == (2, 2)
    assert (communication["median_seconds"], communication["max_seconds"]) == (600, 12 * 60)
    actions = [line["action"] for line in report["timeline"]]
    assert actions[0] == "crisis.declared" and "cell.operational" in actions
    assert "exercise.launched" in actions and "cod.activated" in actions


async def test_a_run_that_is_not_of_the_drill_is_404_and_a_communicator_is_refused(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    played = await play(client, db, clock)
    com = await make_user(db, clock, "com2", "communicator")
    path = f"/api/v1/exercises/{played.drill_id}/runs/{played.run_id}/report"
    assert (await client.get(path, headers=com.headers)).status_code == 403
    missing = await client.get(
        f"/api/v1/exercises/{played.drill_id}/runs/{played.run_id + 1}/report",
        headers=played.trainer.headers,
    )
    assert missing.status_code == 404 and "Aucune séance" in missing.text


async def test_the_demos_finished_crisis_exercise_has_a_report_and_a_pdf_with_its_clocks(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        await directory.load_demo(session, now=clock.now())
    await demo_exercises.plan_once(db, settings, now=clock.now())
    async with db.read() as session:
        [run] = (await session.exec(select(DrillRun))).all()
        assert run.id is not None
        report = await views.report(
            session, actor=TRAINER, drill_id=run.drill_id, run_id=run.id, now=clock.now()
        )
    assert report["clocks"] and report["timeline"]
    content = exercise_report_pdf.render(shown(report), generated_at=clock.now())
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    for clock_result in report["clocks"]:
        assert clock_result["code"] in text and clock_result["status_label"] in text


def test_a_clock_met_after_its_deadline_reports_how_late_it_was() -> None:
    start = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
    clock = Clock(crisis_id=1, code="ES47", started_at=start, deadline=start + timedelta(hours=1))
    met = start + timedelta(minutes=75)
    state = ClockState("ES47", clock, (), met, ClockStatus.LATE)
    result = scoring.clock_view(state)
    assert (result["status_label"], result["met_after_seconds"]) == ("tenu en retard", 75 * 60)
    assert result["late_by_seconds"] == 15 * 60
    on_time = scoring.clock_view(ClockState("ES47", clock, (), start, ClockStatus.MET))
    assert on_time["late_by_seconds"] is None and on_time["met_after_seconds"] == 0
