"""Under load a tick can outlast its interval: the skipped next tick is not a warning to log."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from crisis.app import logs


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    logs.configure(json_logs=True, level="INFO")
    logs.configure(json_logs=True, level="INFO")  # configured twice: still one filter
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_a_tick_skipped_while_the_last_one_runs_is_not_logged_but_other_warnings_are(
    lines: io.StringIO,
) -> None:
    scheduler = logging.getLogger("apscheduler.scheduler")
    scheduler.warning(
        'Execution of job "%s" skipped: maximum number of running instances reached (%d)',
        "Background._run (trigger: interval[0:00:00.250000])",
        1,
    )
    scheduler.warning('Run time of job "%s" was missed by %s', "Background._run", "0:00:02")
    written = lines.getvalue()
    assert "maximum number of running instances" not in written
    assert "was missed by 0:00:02" in written
    assert sum(isinstance(f, logs.SkippedTick) for f in scheduler.filters) == 1
