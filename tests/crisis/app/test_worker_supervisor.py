"""The supervisor that starts the worker child of `tocsin serve` again when it dies."""

from __future__ import annotations

import logging
import multiprocessing
import sys
import time
from collections.abc import Callable

import pytest

from crisis.app.worker import WorkerChild
from crisis.app.worker_supervisor import WorkerSupervisor


def _child(target: object, *args: object) -> WorkerChild:
    """A real spawned process standing for the worker (only its life and death matter here)."""
    context = multiprocessing.get_context("spawn")
    _, lifeline = context.Pipe(duplex=False)
    process = context.Process(target=target, args=args)  # type: ignore[arg-type]
    process.start()
    return WorkerChild(process, lifeline)


def _until(predicate: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_that_keeps_dying_is_started_again_after_growing_delays_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started: list[WorkerChild] = []

    def start() -> WorkerChild:
        # three crashes (exit 3), then a worker that stays up
        started.append(_child(sys.exit, 3) if len(started) < 3 else _child(time.sleep, 60))
        return started[-1]

    pauses: list[float] = []
    caplog.set_level(logging.ERROR, logger="tocsin.worker")
    supervisor = WorkerSupervisor(start, pause=pauses.append, monotonic=lambda: 0.0)
    _until(lambda: supervisor.restarts == 3)
    assert supervisor.stop() == -15  # the one that stayed up, stopped by SIGTERM
    supervisor.join(5)
    assert pauses == [1.0, 2.0, 4.0]
    assert len(started) == 4 and [c.process.exitcode for c in started[:3]] == [3, 3, 3]
    ended = [r for r in caplog.records if "ended unexpectedly" in r.getMessage()]
    assert all("(exit code 3)" in r.getMessage() for r in ended) and len(ended) == 3


def test_a_worker_that_ran_a_minute_before_dying_is_started_again_after_one_second() -> None:
    started: list[WorkerChild] = []

    def start() -> WorkerChild:
        started.append(_child(sys.exit, 1) if len(started) < 3 else _child(time.sleep, 60))
        return started[-1]

    pauses: list[float] = []
    ticks = iter(range(0, 10_000, 61))  # every child seems to have run 61 s
    supervisor = WorkerSupervisor(start, pause=pauses.append, monotonic=lambda: next(ticks))
    _until(lambda: supervisor.restarts == 3)
    supervisor.stop()
    assert pauses == [1.0, 1.0, 1.0]


def test_a_stopped_supervisor_does_not_start_the_worker_again() -> None:
    started: list[WorkerChild] = []

    def start() -> WorkerChild:
        started.append(_child(time.sleep, 60))
        return started[-1]

    supervisor = WorkerSupervisor(start, pause=lambda _: None)
    assert supervisor.stop() == -15
    supervisor.join(5)
    assert len(started) == 1 and not supervisor._watcher.is_alive()


def test_a_worker_ending_cleanly_as_the_whole_service_stops_is_neither_a_crash_nor_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # systemd's SIGTERM reaches the whole group: the child exits 0, the parent stops meanwhile
    started: list[WorkerChild] = []

    def start() -> WorkerChild:
        started.append(_child(sys.exit, 0))
        return started[-1]

    caplog.set_level(logging.ERROR, logger="tocsin.worker")
    made: list[WorkerSupervisor] = []

    def parent_stops_meanwhile(_: float) -> None:
        _until(lambda: bool(made))
        made[0]._stopping.set()

    supervisor = WorkerSupervisor(start, pause=parent_stops_meanwhile)
    made.append(supervisor)
    supervisor.join(30)
    assert not supervisor._watcher.is_alive()
    assert len(started) == 1 and supervisor.restarts == 0
    assert not [r for r in caplog.records if "ended unexpectedly" in r.getMessage()]


def test_a_worker_ending_cleanly_while_the_service_runs_on_is_started_again() -> None:
    # an operator's plain `kill` of the child alone: the web must not stay without a worker
    started: list[WorkerChild] = []

    def start() -> WorkerChild:
        started.append(_child(sys.exit, 0) if not started else _child(time.sleep, 60))
        return started[-1]

    pauses: list[float] = []
    supervisor = WorkerSupervisor(start, pause=pauses.append, monotonic=lambda: 0.0)
    _until(lambda: supervisor.restarts == 1)
    supervisor.stop()
    assert pauses == [1.0, 1.0]  # the wait for a group stop, then the restart's delay
