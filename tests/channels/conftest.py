from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from channels.sandbox import Sandbox


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def sandbox(clock: ManualClock) -> AsyncIterator[Sandbox]:
    # Telegram's flood limits run on a clock the test moves; see test_sandbox.py.
    async with Sandbox(telegram_clock=clock) as running:
        yield running
