"""The three independent tracks of an open crisis, each with its own state.

The cell (ES47), the COD and its information duty (ES48) and the CIP (ES50) never wait for
one another: the prefect's COD decision is recorded whether or not the cell is staffed. The
crisis itself is only open or closed; each track's state is read from what was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class CellTrack(StrEnum):
    NOT_ORDERED = "not_ordered"
    ORDERED = "ordered"
    OPERATIONAL = "operational"


class CodTrack(StrEnum):
    NOT_ACTIVATED = "not_activated"
    ACTIVATED = "activated"


class CipTrack(StrEnum):
    """Read from the CIP wing's row (`crisis.cip.record.tracks`), which the crisis row lacks."""

    NOT_ORDERED = "not_ordered"
    ORDERED = "ordered"
    OPEN = "open"
    CLOSED = "closed"


class Recorded(Protocol):
    """What a crisis row records of its tracks (`Crisis` has these fields)."""

    @property
    def is_open(self) -> bool: ...
    @property
    def cell_ordered_at(self) -> object: ...
    @property
    def cell_operational_at(self) -> object: ...
    @property
    def cod_activated_at(self) -> object: ...


@dataclass(frozen=True, slots=True)
class Tracks:
    open: bool
    cell: CellTrack
    cod: CodTrack
    cip: CipTrack = CipTrack.NOT_ORDERED

    def view(self) -> dict[str, object]:
        return {"open": self.open, "cell": self.cell, "cod": self.cod, "cip": self.cip}


def of(crisis: Recorded, *, cip: CipTrack = CipTrack.NOT_ORDERED) -> Tracks:
    if crisis.cell_operational_at is not None:
        cell = CellTrack.OPERATIONAL
    elif crisis.cell_ordered_at is not None:
        cell = CellTrack.ORDERED
    else:
        cell = CellTrack.NOT_ORDERED
    cod = CodTrack.NOT_ACTIVATED if crisis.cod_activated_at is None else CodTrack.ACTIVATED
    return Tracks(open=crisis.is_open, cell=cell, cod=cod, cip=cip)
