"""What every fake shares: a record of what it received and the faults to inject.

A message arriving a second time for its recipient (after a crash, a retry whose answer was
lost) is noted in ``duplicates``: ``delivered_twice`` when the provider delivered it again
(Telegram: same chat and text; Mastodon, X: same status text; SMTP: same Message-ID), or
``absorbed`` when it recognised the resend by its key and answered as the first time (SMS:
same reference; Mastodon: same ``Idempotency-Key``; Matrix: same txnId; X refuses the same
text).
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["DRIP", "FakeState", "Fault", "Received"]

# Set by the HTTP fakes' middleware for each request: where ``arrive`` leaves a drip's pace.
DRIP: ContextVar[list[float] | None] = ContextVar("DRIP", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    fake: str
    recipient: str
    text: str
    subject: str = ""
    key: str = ""  # the provider-side idempotency key, when the protocol has one
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    meta: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """One scripted failure: an HTTP status (or SMTP code), a dropped connection, a
    connection reset (SMTP: TCP RST), a request held ``hang`` seconds before it is answered
    normally (a timeout when longer than the client's, the provider having accepted all the
    same), or a normal answer trickled: ``drip`` seconds between each piece of its body."""

    status: int = 0
    retry_after: float | None = None
    drop: bool = False
    reset: bool = False
    hang: float = 0.0
    drip: float = 0.0

    @property
    def answers_normally(self) -> bool:
        """The request is handled as usual once held or while trickled."""
        return not (self.status or self.drop or self.reset)


@dataclass(slots=True, kw_only=True)
class FakeState:
    name: str
    received: list[Received] = field(default_factory=list)
    scripted: deque[Fault] = field(default_factory=deque)
    rejected: set[str] = field(default_factory=set)
    latency: float = 0.0
    attempts: int = 0
    rate_limited: int = 0  # 429 answers given because a limit was exceeded or scripted
    notes: list[str] = field(default_factory=list)  # why limits refused, for benchmarks
    replies: list[Received] = field(default_factory=list)  # simulated answers sent to Tocsin
    duplicates: list[Received] = field(default_factory=list)  # resends, meta["absorbed"]

    def fail_next(
        self,
        *,
        status: int = 0,
        retry_after: float | None = None,
        drop: bool = False,
        reset: bool = False,
        hang: float = 0.0,
        drip: float = 0.0,
        times: int = 1,
    ) -> None:
        fault = Fault(
            status=status, retry_after=retry_after, drop=drop, reset=reset, hang=hang, drip=drip
        )
        self.scripted.extend([fault] * times)

    def reject(self, *recipients: str) -> None:
        self.rejected.update(recipients)

    async def arrive(self) -> Fault | None:
        """Called at the start of each request: applies latency, pops a scripted fault.

        A hang is served here; a fault that still answers normally (hang, drip) is not
        returned, a drip is left in ``DRIP`` for the HTTP fakes' trickling middleware."""
        self.attempts += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = self.scripted.popleft() if self.scripted else None
        if fault is None:
            return None
        if fault.status == 429:
            self.rate_limited += 1
        if fault.hang:
            await asyncio.sleep(fault.hang)
        if fault.answers_normally:
            holder = DRIP.get()
            if holder is not None:
                holder.append(fault.drip)
            return None
        return fault

    def record(self, message: Received) -> None:
        self.received.append(message)

    def duplicate(self, message: Received, *, absorbed: bool) -> None:
        """``message`` came again: delivered a second time, or ``absorbed`` by its key."""
        noted = Received(
            fake=message.fake,
            recipient=message.recipient,
            text=message.text,
            subject=message.subject,
            key=message.key,
            meta={**message.meta, "absorbed": "yes" if absorbed else "no"},
        )
        self.duplicates.append(noted)

    @property
    def delivered_twice(self) -> int:
        """Messages the recipient got twice."""
        return sum(1 for m in self.duplicates if m.meta["absorbed"] == "no")

    @property
    def absorbed(self) -> int:
        """Resends the provider recognised (same key) and did not deliver again."""
        return sum(1 for m in self.duplicates if m.meta["absorbed"] == "yes")

    def reset(self) -> None:
        self.received.clear()
        self.scripted.clear()
        self.rejected.clear()
        self.latency = 0.0
        self.attempts = 0
        self.rate_limited = 0
        self.notes.clear()
        self.replies.clear()
        self.duplicates.clear()

    def configure(self, data: dict[str, Any]) -> None:
        """Faults set over HTTP: ``{"latency": s, "reject": [...], "fail_next": [{...}]}``."""
        if "latency" in data:
            self.latency = float(data["latency"])
        for recipient in data.get("reject", []):
            self.rejected.add(str(recipient))
        for fault in data.get("fail_next", []):
            self.fail_next(
                status=int(fault.get("status", 0)),
                retry_after=fault.get("retry_after"),
                drop=bool(fault.get("drop", False)),
                reset=bool(fault.get("reset", False)),
                hang=float(fault.get("hang", 0.0)),
                drip=float(fault.get("drip", 0.0)),
            )
