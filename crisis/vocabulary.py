"""The closed sets every wing shares, each declared once (their French labels: `crisis.labels`).

A wing's own sets stay with it (`crisis.cell.clocks.ClockCode`, `crisis.actors.Role`); the
dispatcher owns `DeliveryStatus` (`crisis.dispatch.outbox`), `channels.kinds.ChannelKind` the
sending channels, and `contacts.directory` the directory's own sets (`ContactAudience`, which has
no `public`, and `AddressKind`, a contact's addresses including `phone`).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CHOSEN_AUDIENCES",
    "PHONE",
    "PUBLIC_PAGE",
    "Audience",
    "BulletinStatus",
    "CabinetEntryKind",
    "CrisisMode",
    "CrisisStatus",
    "MsgType",
    "Strategy",
]


class CrisisMode(StrEnum):
    """Fixed at a crisis' creation: an exercise never reaches a real recipient."""

    REAL = "real"
    EXERCISE = "exercise"


class CrisisStatus(StrEnum):
    """The lifecycle, in order (see `crisis.cell.lifecycle`)."""

    DECLARED = "declared"
    CELL_ORDERED = "cell_ordered"
    CELL_OPERATIONAL = "cell_operational"
    COD_ACTIVATED = "cod_activated"
    CLOSED = "closed"


class Audience(StrEnum):
    """Who a bulletin or a delivery is for (the contract's « public visé »)."""

    OFFICIALS = "officials"
    MEDIA = "media"
    PUBLIC = "public"
    STAFF = "staff"
    EXERCISE = "exercise"


CHOSEN_AUDIENCES: tuple[Audience, ...] = (
    Audience.OFFICIALS,
    Audience.MEDIA,
    Audience.PUBLIC,
    Audience.STAFF,
)
"""What a bulletin or a playbook may name; `exercise` is imposed by the isolation, never chosen."""


PUBLIC_PAGE = "public_page"
"""The channel of a bulletin's public page: live at publication, no provider behind it."""
PHONE = "phone"
"""The channel of a delivery a person must phone (`to_call`): no provider behind it either."""


class BulletinStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PUBLISHED = "published"


class MsgType(StrEnum):
    """A bulletin's CAP message type: an update or a cancellation `references` earlier ones."""

    ALERT = "alert"
    UPDATE = "update"
    CANCEL = "cancel"


class Strategy(StrEnum):
    """How a bulletin reaches a person: on every channel at once, or one after the other."""

    ALL = "all"
    CASCADE = "cascade"


class Language(StrEnum):
    """A bulletin's other versions besides French: English (the Baie de Somme's visitors) and
    easy-to-read French (FALC, « facile à lire et à comprendre »)."""

    EN = "en"
    FALC = "falc"


class CabinetEntryKind(StrEnum):
    """What the cabinet writes in the main courante itself (`crisis.cell.cabinet`)."""

    DECISION = "decision"
    INFORMATION = "information"
    ACTION = "action"
