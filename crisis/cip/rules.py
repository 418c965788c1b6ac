"""What an instance configures of its CIP: the minimum staffing to open, the ES50 clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from crisis.cell.clocks import ClockRules
from crisis.cip.vocabulary import CipRole


@dataclass(frozen=True, slots=True, kw_only=True)
class CipRules:
    clock: ClockRules = field(default_factory=ClockRules)
    min_staffing: Mapping[str, int] = field(
        default_factory=lambda: {CipRole.HEAD.value: 1, CipRole.OPERATOR.value: 2}
    )
    max_opening_delay: timedelta = timedelta(hours=24)
    clock_skew: timedelta = timedelta(minutes=5)
    """How far in the future a call's time may be (two clocks never agree to the second)."""
    page_escalation: timedelta = timedelta(minutes=15)
    """With no answer to a page of the CIP's roster within this delay, the next level is paged."""
    base_url: str = "http://localhost:8000"
    """Where the pages' acknowledgement links point."""
