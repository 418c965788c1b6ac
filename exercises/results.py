"""What a run shows: who was paged, who answered and how fast (per duty role)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.roster import DUTY_LABELS
from crisis.cell import paging

__all__ = ["Answer", "RoleFigures", "answers", "by_role"]


@dataclass(frozen=True, slots=True)
class Answer:
    duty_role: str
    level: int
    name: str
    paged_at: datetime
    answered_at: datetime | None

    @property
    def seconds(self) -> int | None:
        if self.answered_at is None:
            return None
        return max(0, int((self.answered_at - self.paged_at).total_seconds()))

    def view(self) -> dict[str, object]:
        return {
            "duty_role": self.duty_role,
            "duty_role_label": DUTY_LABELS.get(self.duty_role, self.duty_role),
            "level": self.level,
            "name": self.name,
            "paged_at": self.paged_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "answer_seconds": self.seconds,
        }


@dataclass(frozen=True, slots=True)
class RoleFigures:
    duty_role: str
    paged: int
    answered: int
    median_seconds: int | None
    max_seconds: int | None

    def view(self) -> dict[str, object]:
        return {
            "duty_role": self.duty_role,
            "duty_role_label": DUTY_LABELS.get(self.duty_role, self.duty_role),
            "paged": self.paged,
            "answered": self.answered,
            "median_seconds": self.median_seconds,
            "max_seconds": self.max_seconds,
        }


async def answers(session: AsyncSession, *, crisis_id: int) -> list[Answer]:
    """One line per page of the run's crisis, with the answer for that role if any."""
    pages = await paging.pages_of(session, crisis_id=crisis_id)
    acks = await paging.acknowledgements(session, crisis_ids=[crisis_id])
    answered = {(a.person, a.duty_role): a.at for a in acks}
    return [
        Answer(p.duty_role, p.level, p.name, p.paged_at, answered.get((p.person, p.duty_role)))
        for p in pages
    ]


def by_role(lines: list[Answer]) -> list[RoleFigures]:
    roles = sorted({line.duty_role for line in lines})
    figures = []
    for role in roles:
        mine = [line for line in lines if line.duty_role == role]
        times = [s for s in (line.seconds for line in mine) if s is not None]
        figures.append(
            RoleFigures(
                role,
                len(mine),
                len(times),
                int(median(times)) if times else None,
                max(times) if times else None,
            )
        )
    return figures
