"""A drill run's report (RETEX) with 10,000 bulletin deliveries (issue 19: under 1 s).

    .venv/bin/python -m bench.exercises.report_bench [--postgres postgresql://…]
        [--deliveries 10000] [--repeats 15]

A `crisis` drill is launched by hand (an exercise-mode crisis, its players paged), then
`--deliveries` bulletin deliveries are written straight into the tables, spread over the
officials, media and public played, with sent, acknowledged and failed ones. Measured: the
report as `GET /api/v1/exercises/{id}/runs/{run}/report` computes it (`exercises.views.report`
in one read transaction: clocks, aggregates per audience, answers, a 500-entry timeline), and
the A4 PDF with its chart (`crisis.app.exercise_report_pdf`), median and max of `--repeats`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.databases import throwaway
from crisis.actors import Actor, Role
from crisis.app import bootstrap, exercise_report_pdf
from crisis.app.db import Database
from crisis.app.exercise_report_view import shown
from crisis.app.library import playbook_library
from crisis.dispatch.rows import Delivery, OutboxMessage
from exercises import launching, programme, views
from exercises.launching import LaunchRules
from exercises.programme import DrillKind, DrillSpec
from tests.crisis.lifecycle_support import RULES, add_contact

TRAINER = Actor(5, "formatrice", frozenset({Role.TRAINER}))
PLAYED = ("officials", "officials", "media", "public")
STATUSES = ("sent", "sent", "confirmed", "failed", "sent")


async def _played(db: Database, now: datetime, deliveries: int) -> tuple[int, int]:
    async with db.transaction() as session:
        players = [
            await add_contact(session, name=f"Joueur{i} Exercice", audience="exercise", now=now)
            for i in range(20)
        ]
        drill = await programme.create(
            session, actor=TRAINER, playbooks=playbook_library(), now=now,
            spec=DrillSpec(
                title="Exercice crue (banc)", kind=DrillKind.CRISIS, playbook="crue",
                communes=["80021"], participants=players, starts_at=now + timedelta(days=1),
            ),
        )  # fmt: skip
        assert drill.id is not None
        run = await launching.launch_now(
            session, actor=TRAINER, drill_id=drill.id, now=now,
            rules=LaunchRules(lifecycle=RULES, playbooks=playbook_library()),
        )  # fmt: skip
        assert run.id is not None and run.crisis_id is not None
        message = OutboxMessage(
            crisis_id=run.crisis_id, bulletin_id=1, purpose="bulletin", channel="email",
            subject="EXERCICE — Crue : premier point", text="…", exercise=True, created_at=now,
        )  # fmt: skip
        session.add(message)
        await session.flush()
        rows = [
            {
                "message_id": message.id, "crisis_id": run.crisis_id, "bulletin_id": 1,
                "purpose": "bulletin", "audience": "exercise",
                "played_audience": PLAYED[n % len(PLAYED)], "channel": "email",
                "address": f"joueur{n}@exercice.test", "status": STATUSES[n % len(STATUSES)],
                "idempotency_key": uuid.uuid4().hex, "created_at": now,
                "sent_at": None if n % 5 == 3 else now + timedelta(seconds=60 + n % 900),
                "confirmed_at": now + timedelta(minutes=20) if n % 5 == 2 else None,
            }
            for n in range(deliveries)
        ]  # fmt: skip
        table = Delivery.__table__  # type: ignore[attr-defined]
        for start in range(0, len(rows), 2000):
            await (await session.connection()).execute(sa.insert(table), rows[start : start + 2000])
        return drill.id, run.id


def _figures(label: str, values: list[float]) -> str:
    return f"{label} : médiane {statistics.median(values):.0f} ms, max {max(values):.0f} ms"


async def main(postgres: str | None, deliveries: int, repeats: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    async with throwaway(postgres, name="exercise_report") as (db, url):
        await bootstrap.prepare(db, url)
        drill_id, run_id = await _played(db, now, deliveries)
        later = now + timedelta(minutes=90)
        report_ms, pdf_ms = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            async with db.read() as session:
                report = await views.report(
                    session, actor=TRAINER, drill_id=drill_id, run_id=run_id, now=later
                )
            report_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            exercise_report_pdf.render(shown(report), generated_at=later)
            pdf_ms.append((time.perf_counter() - started) * 1000)
        totals = report["totals"]
        print(f"{'PostgreSQL' if postgres else 'SQLite'}, {totals['deliveries']} envois")
        print(_figures("bilan (API)", report_ms) + " — objectif < 1 000 ms")
        print(_figures("PDF A4 avec graphique", pdf_ms))
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(main(args.postgres, args.deliveries, args.repeats))
