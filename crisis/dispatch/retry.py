"""When to try a delivery again: exponential back-off with jitter, within a budget."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RetryPolicy"]


class RetryPolicy(BaseModel):
    """``base_seconds × factor^(attempt-1)``, capped, shortened by up to ``jitter`` of itself.

    A provider's ``retry_after`` is a floor. The budget is spent when ``max_attempts`` sends
    have been tried or when the next try would fall ``max_elapsed_seconds`` after the delivery
    was written. The defaults outlast a two-minute outage of a relay by far.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_seconds: float = Field(default=2.0, gt=0)
    factor: float = Field(default=2.0, ge=1)
    max_delay_seconds: float = Field(default=300.0, gt=0)
    jitter: float = Field(default=0.25, ge=0, lt=1)
    max_attempts: int = Field(default=12, ge=1)
    max_elapsed_seconds: float = Field(default=3600.0, gt=0)

    def delay(self, *, attempts: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after the ``attempts``-th failed try."""
        exponent = max(0, attempts - 1)
        backoff = min(self.max_delay_seconds, self.base_seconds * self.factor**exponent)
        backoff *= 1.0 - self.jitter * rng.random()
        return max(backoff, retry_after or 0.0)

    def next_attempt(
        self,
        *,
        attempts: int,
        created_at: datetime,
        now: datetime,
        retry_after: float | None,
        rng: random.Random,
    ) -> datetime | None:
        """The instant of the next try, or None when the budget is spent."""
        if attempts >= self.max_attempts:
            return None
        instant = now + timedelta(
            seconds=self.delay(attempts=attempts, retry_after=retry_after, rng=rng)
        )
        if instant - created_at > timedelta(seconds=self.max_elapsed_seconds):
            return None
        return instant
