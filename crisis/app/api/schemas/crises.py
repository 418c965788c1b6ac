"""Crises, their clocks, checklist and journal (CONTRACT §3, §4)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from crisis.app.api.schemas import Timestamp
from crisis.cell.tracks import CellTrack, CipTrack, CodTrack


class CellView(BaseModel):
    ordered_at: Timestamp | None
    ordered_by: str | None
    operational_at: Timestamp | None
    operational_by: str | None


class CodView(BaseModel):
    activated_at: Timestamp | None
    synergi_ref: str | None
    decided_by: str | None
    recorded_at: Timestamp | None
    recorded_by: str | None


class AlertView(BaseModel):
    threshold_min: int
    sent_at: Timestamp | None
    late: bool


class ClockView(BaseModel):
    code: str
    label: str
    started_at: Timestamp | None
    deadline: Timestamp | None
    status: str
    met_at: Timestamp | None
    alerts: list[AlertView]
    coverage: dict[str, Any] | None = None


class ChecklistEntryView(BaseModel):
    position: int
    title: str
    role: str | None
    due_offset_min: int
    due_at: Timestamp
    action: str | None
    playbook_key: str | None
    done_at: Timestamp | None
    done_by: str | None


class TracksView(BaseModel):
    """The three independent tracks of the crisis (the cell, the COD, the CIP)."""

    open: bool
    cell: CellTrack
    cod: CodTrack
    cip: CipTrack


class CrisisView(BaseModel):
    id: int
    title: str
    kind: str
    mode: str
    status: str = Field(
        description="closed, or else the cell's step (declared, cell_ordered, "
        "cell_operational): the COD never waits for it, see tracks."
    )
    tracks: TracksView
    communes: list[str]
    playbook: str | None
    declared_at: Timestamp
    declared_by: str | None
    cell: CellView
    cod: CodView
    closed_at: Timestamp | None
    closed_by: str | None
    clocks: list[ClockView]


class CrisisDetail(CrisisView):
    checklist: list[ChecklistEntryView]


class ClosedCrisisView(CrisisView):
    summary_url: str
    summary: dict[str, Any]


class CrisisList(BaseModel):
    items: list[CrisisView]


class AcknowledgementView(BaseModel):
    id: int
    crisis_id: int
    role: str
    person: str | None
    name: str | None
    at: Timestamp
    via: str | None
    recorded_by: str | None = None
    on_behalf: bool = False
    note: str | None = None


class JournalEntryView(BaseModel):
    id: int
    at: Timestamp
    actor: str | None
    action: str
    crisis_id: int | None
    payload: Any
    redacted: bool
    prev_hash: str | None
    global_prev_hash: str | None
    hash: str


class JournalView(BaseModel):
    crisis_id: int
    items: list[JournalEntryView]
