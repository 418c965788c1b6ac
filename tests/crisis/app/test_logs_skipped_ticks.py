"""Under load a tick can outlast its interval: the skipped next tick is not a warning to log."""

from __future__ import annotations

import io
import logging

from crisis.app import logs
from tests.crisis.app.test_secrets import log_lines  # noqa: F401 (fixture)


def test_a_tick_skipped_while_the_last_one_runs_is_not_logged_but_other_warnings_are(
    log_lines: io.StringIO,  # noqa: F811
) -> None:
    logs.configure(json_logs=True, level="DEBUG")  # configured again: still one filter
    logging.getLogger().handlers[0].setStream(log_lines)  # type: ignore[attr-defined]
    scheduler = logging.getLogger("apscheduler.scheduler")
    scheduler.warning(
        'Execution of job "%s" skipped: maximum number of running instances reached (%d)',
        "Background._run (trigger: interval[0:00:00.250000])",
        1,
    )
    scheduler.warning('Run time of job "%s" was missed by %s', "Background._run", "0:00:02")
    written = log_lines.getvalue()
    assert "maximum number of running instances" not in written
    assert "was missed by 0:00:02" in written
    assert sum(isinstance(f, logs.SkippedTick) for f in scheduler.filters) == 1
