from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from channels.sandbox.smtp import SmtpFake


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpFake]:
    fake = SmtpFake()
    await fake.start()
    yield fake
    await fake.stop()
