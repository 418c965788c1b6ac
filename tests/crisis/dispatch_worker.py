"""A dispatcher process for the crash test: sends until every delivery is final, then exits.

python -m tests.crisis.dispatch_worker DATABASE_URL SMTP_PORT LEASE_SECONDS
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

import sqlalchemy as sa

from channels.config import ChannelsConfig, SmtpConfig
from crisis.app.db import Database
from crisis.app.dispatch import dispatcher_from_config
from crisis.dispatch.dispatcher import DispatchTuning
from crisis.dispatch.outbox import Delivery


async def main(url: str, port: int, lease: float) -> None:
    db = Database.from_url(url)
    smtp = SmtpConfig(
        sandbox=True, host="127.0.0.1", port=port, security="none", rate_per_second=100_000
    )
    worker = dispatcher_from_config(
        db=db,
        channels=ChannelsConfig(smtp=smtp),
        exercise_channels=ChannelsConfig(),
        tuning=DispatchTuning(lease_seconds=lease),
    )
    while True:
        report = await worker.run(datetime.now(UTC))
        if report.claimed == 0:
            async with db.read() as session:
                left = await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(Delivery)
                    .where(sa.not_(Delivery.status.in_(["sent", "failed"])))  # type: ignore[attr-defined]
                )
            if not left:
                break
            await asyncio.sleep(0.2)
    await worker.aclose()
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
