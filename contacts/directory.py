"""The directory: people and organisations, their audience, function, area and channels."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class ContactAudience(StrEnum):
    """The directory's audiences: a bulletin's `public` is no one's entry in the directory."""

    OFFICIALS = "officials"
    MEDIA = "media"
    STAFF = "staff"
    EXERCISE = "exercise"


AUDIENCE_LABELS: dict[str, str] = {
    ContactAudience.OFFICIALS: "Élus",
    ContactAudience.MEDIA: "Médias",
    ContactAudience.STAFF: "Services de l'État",
    ContactAudience.EXERCISE: "Participants aux exercices",
}


class Function(StrEnum):
    MAIRE = "maire"
    ADJOINT = "adjoint"
    CONSEILLER_MUNICIPAL = "conseiller_municipal"
    CONSEILLER_DEPARTEMENTAL = "conseiller_departemental"
    PRESIDENT_DEPARTEMENT = "president_departement"
    DEPUTE = "depute"
    SENATEUR = "senateur"
    PRESIDENT_EPCI = "president_epci"
    REDACTION = "redaction"
    JOURNALISTE = "journaliste"
    AGENT_PERMANENCE = "agent_permanence"
    PARTICIPANT_EXERCICE = "participant_exercice"
    AUTRE = "autre"


FUNCTION_LABELS: dict[str, str] = {
    Function.MAIRE: "Maire",
    Function.ADJOINT: "Adjoint au maire",
    Function.CONSEILLER_MUNICIPAL: "Conseiller municipal",
    Function.CONSEILLER_DEPARTEMENTAL: "Conseiller départemental",
    Function.PRESIDENT_DEPARTEMENT: "Président du conseil départemental",
    Function.DEPUTE: "Député",
    Function.SENATEUR: "Sénateur",
    Function.PRESIDENT_EPCI: "Président d'EPCI",
    Function.REDACTION: "Rédaction",
    Function.JOURNALISTE: "Journaliste",
    Function.AGENT_PERMANENCE: "Agent de permanence",
    Function.PARTICIPANT_EXERCICE: "Participant à l'exercice",
    Function.AUTRE: "Autre",
}


class AreaLevel(StrEnum):
    """Where a contact's competence lies; officials are targeted through it."""

    COMMUNE = "commune"
    EPCI = "epci"
    ARRONDISSEMENT = "arrondissement"
    DEPARTEMENT = "departement"


class ContactKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class AddressKind(StrEnum):
    """A contact's address kinds: the sending channels a person can be reached on, and `phone`
    (the to-call list). `channels.kinds.ChannelKind` is the wider set of sending channels."""

    EMAIL = "email"
    SMS = "sms"
    TELEGRAM = "telegram"
    MATRIX = "matrix"
    PHONE = "phone"


ADDRESS_KIND_LABELS: dict[str, str] = {
    AddressKind.EMAIL: "Courriel",
    AddressKind.SMS: "SMS (mobile)",
    AddressKind.TELEGRAM: "Telegram",
    AddressKind.MATRIX: "Matrix / Tchap",
    AddressKind.PHONE: "Téléphone (appel)",
}


SENDING_KINDS = frozenset(
    {AddressKind.EMAIL, AddressKind.SMS, AddressKind.TELEGRAM, AddressKind.MATRIX}
)
"""Channels a message can go out on; `phone` is for the to-call list only."""


class Contact(SQLModel, table=True):
    """A person or an organisation (a newsroom, a mairie) with a stable external key."""

    __tablename__ = "contact"
    __table_args__ = (
        sa.Index("ix_contact_target", "audience", "area_level", "area_code", "active"),
        sa.Index("ix_contact_departement", "departement", "audience", "active"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(default=ContactKind.PERSON, max_length=12)
    audience: str = Field(max_length=12)
    function: str = Field(max_length=30)
    last_name: str = Field(max_length=200)
    first_name: str = Field(default="", max_length=200)
    organisation: str = Field(default="", max_length=200)
    search_name: str = Field(default="", max_length=400, index=True)
    area_level: str = Field(max_length=14)
    area_code: str = Field(max_length=9)
    departement: str = Field(max_length=3)
    function_since: date | None = None
    source: str = Field(default="manual", max_length=10)
    fingerprint: str = Field(default="", max_length=32)
    active: bool = True
    erased: bool = False
    updated_at: datetime = Field(sa_type=UTCDateTime)

    @property
    def display_name(self) -> str:
        if self.kind == ContactKind.ORGANISATION or not self.first_name:
            return self.last_name
        return f"{self.first_name} {self.last_name}"


class ContactChannel(SQLModel, table=True):
    """One way to reach a contact, in the contact's order of preference."""

    __tablename__ = "contact_channel"
    __table_args__ = (
        sa.UniqueConstraint("contact_id", "kind", "address"),
        sa.Index("ix_contact_channel_kind_address", "kind", "address"),  # replies' sender
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    kind: str = Field(max_length=10)
    address: str = Field(max_length=320)
    verified: bool = False
    active: bool = True
    preference: int = 0
