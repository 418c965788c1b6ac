"""The directory, imports, personal data and the on-call roster: requests and answers."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from contacts.directory import AddressKind, AreaLevel, ContactAudience, ContactKind
from contacts.roster import CipDutyRole, DutyRole
from crisis.app.api.schemas import Timestamp
from crisis.app.api.schemas.crises import JournalEntryView
from crisis.app.api.schemas.requests import RequestModel
from crisis.app.paths import RowRef


class ContactChannelView(BaseModel):
    id: int
    kind: str
    address: str
    verified: bool
    active: bool
    preference: int


class ContactView(BaseModel):
    """`key` and `function_since` are only there for those who see personal data."""

    id: int
    key: str | None = None
    kind: str
    audience: str
    function: str
    last_name: str
    first_name: str
    name: str
    organisation: str
    area_level: str
    area_code: str
    departement: str
    function_since: str | None = None
    source: str
    active: bool
    erased: bool
    updated_at: Timestamp
    channels: list[ContactChannelView]


class ContactList(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ContactView]


class ContactExport(ContactView):
    journal: list[JournalEntryView]


class ErasureView(BaseModel):
    contact_id: int
    redacted_entries: int
    pseudonymised_deliveries: int
    already_erased: bool


class LineError(BaseModel):
    line: int
    message: str


class ImportReportView(BaseModel):
    format: str
    dry_run: bool
    written: bool
    records: int
    added: int
    updated: int
    unchanged: int
    deactivated: int
    channels_added: int
    channels_updated: int
    skipped_erased: int
    added_keys: list[str]
    updated_keys: list[str]
    deactivated_keys: list[str]
    errors: list[LineError]
    errors_total: int


class ShiftView(BaseModel):
    id: int
    role: str
    level: int
    name: str
    contact_id: int | None
    user_id: int | None
    starts_at: Timestamp
    ends_at: Timestamp


class OnDutyView(BaseModel):
    at: Timestamp
    roles: dict[str, list[ShiftView]]


class GapView(BaseModel):
    role: str
    starts_at: Timestamp
    ends_at: Timestamp
    hours: float


class GapsView(BaseModel):
    days: int
    uncovered_hours: int
    items: list[GapView]


class ChannelIn(RequestModel):
    kind: AddressKind
    address: str = Field(min_length=1, max_length=320)
    verified: bool = False
    active: bool = True


class ContactIn(RequestModel):
    key: str | None = Field(default=None, max_length=200)
    kind: ContactKind = ContactKind.PERSON
    audience: ContactAudience
    function: str = Field(max_length=30)
    last_name: str = Field(min_length=1, max_length=200)
    first_name: str = Field(default="", max_length=200)
    organisation: str = Field(default="", max_length=200)
    area_level: AreaLevel
    area_code: str = Field(max_length=9)
    channels: list[ChannelIn] = Field(default_factory=list, max_length=20)


class ShiftIn(RequestModel):
    role: DutyRole | CipDutyRole
    level: int = Field(default=1, ge=1, le=3)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    contact_id: RowRef | None = None
    user_id: RowRef | None = None
    name: str = Field(default="", max_length=200)
