"""Plain values the importers, the demo generator and the applier exchange."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from contacts.geography import search_key


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    kind: str
    address: str
    verified: bool = False
    active: bool = True
    preference: int = 0


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One contact as a source describes it. `None` fields leave the stored value alone."""

    key: str
    line: int
    audience: str | None = None
    function: str | None = None
    last_name: str | None = None
    first_name: str | None = None
    organisation: str | None = None
    kind: str | None = None
    area_level: str | None = None
    area_code: str | None = None
    departement: str | None = None
    function_since: date | None = None
    active: bool | None = None
    channels: tuple[ChannelRecord, ...] = field(default_factory=tuple)

    def with_channels(self, channels: list[ChannelRecord]) -> ContactRecord:
        """This record with `channels` (a plain constructor call: `replace` is slow)."""
        if not channels:
            return self
        return ContactRecord(
            key=self.key,
            line=self.line,
            audience=self.audience,
            function=self.function,
            last_name=self.last_name,
            first_name=self.first_name,
            organisation=self.organisation,
            kind=self.kind,
            area_level=self.area_level,
            area_code=self.area_code,
            departement=self.departement,
            function_since=self.function_since,
            active=self.active,
            channels=tuple(channels),
        )

    @property
    def describes_contact(self) -> bool:
        """False when the record only carries channels for an existing contact."""
        return self.last_name is not None


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str


CONTACT_FIELDS = (
    "kind",
    "audience",
    "function",
    "last_name",
    "first_name",
    "organisation",
    "area_level",
    "area_code",
    "departement",
    "function_since",
    "active",
)


def contact_values(record: ContactRecord) -> dict[str, object]:
    """The stored columns a full record sets (with defaults for what it leaves out)."""
    values: dict[str, object] = {
        "kind": record.kind or "person",
        "audience": record.audience or "",
        "function": record.function or "autre",
        "last_name": record.last_name or "",
        "first_name": record.first_name or "",
        "organisation": record.organisation or "",
        "area_level": record.area_level or "",
        "area_code": record.area_code or "",
        "departement": record.departement or "",
        "function_since": record.function_since,
        "active": True if record.active is None else record.active,
    }
    values["search_name"] = search_key(
        " ".join(str(values[k]) for k in ("first_name", "last_name", "organisation"))
    )
    return values


def fingerprint(values: dict[str, object]) -> str:
    """A digest of the stored columns, so that an unchanged row is never rewritten."""
    material = "\x1f".join(map(str, map(values.get, CONTACT_FIELDS)))
    return hashlib.blake2b(material.encode("utf-8"), digest_size=16).hexdigest()


def slug(text: str) -> str:
    """`search_key` with dashes: « Jean-Émile d'Arc » → « jean-emile-d-arc »."""
    return search_key(text).replace(" ", "-")
