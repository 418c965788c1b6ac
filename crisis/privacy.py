"""Who sees the personal data of the people Tocsin reaches: one rule, for every route.

A directory contact's name, phone number, e-mail, Telegram or Matrix id and postal address —
the recipients of bulletins, the senders of replies — are shown to the roles that need them:
the cabinet (prefect, validator), the communication officers, and the administrators who keep
the directory. The others (trainers, CIP operators) see counts and statuses, functions and
places, and masked addresses. The names of the cell's own members (pages, acknowledgements,
on-call roster) are not withheld: who is in the cell is the crisis' business; their channels
never appear. Every view that shows a person asks `sees_personal_data` and uses the functions
below; `tests/crisis/app/test_personal_data.py` lists those views.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from contacts.addresses import masked
from contacts.directory import ContactKind
from crisis.actors import Actor, Role
from crisis.journal import JournalEntry, canonical_json

PERSONAL_DATA_ROLES = frozenset({Role.ADMIN, Role.PREFECT, Role.VALIDATOR, Role.COMMUNICATOR})
WITHHELD = "(masqué)"
PERSONAL_KEYS = frozenset(
    {"sender", "recipient", "recipient_name", "address", "email", "phone", "first_name"}
)
"""Journal payload keys that carry a recipient's personal data."""
RECIPIENT_ACTIONS = frozenset({"delivery.confirmed", "reply.unrecognised"})
"""Journal actions whose actor may be the recipient (a reply, a link) rather than a user."""


def sees_personal_data(actor: Actor) -> bool:
    return actor.is_system or bool(actor.roles & PERSONAL_DATA_ROLES)


def masked_address(kind: str, address: str | None) -> str | None:
    return masked(kind, address) if address else address


def delivery(view: dict[str, Any], *, personal: bool) -> dict[str, Any]:
    """A delivery's view: without need-to-know, no name, a masked address and error."""
    if personal:
        return view
    address = view.get("address") or ""
    hidden = masked_address(str(view.get("channel", "")), address)
    error = view.get("last_error")
    if error and address:
        error = error.replace(address, hidden or WITHHELD)
    return view | {
        "recipient_name": WITHHELD if view.get("recipient_name") else None,
        "address": hidden,
        "last_error": error,
    }


def coverage(view: Mapping[str, Any] | None, *, personal: bool) -> Mapping[str, Any] | None:
    """ES48 coverage: without need-to-know, the officials and media missing are only counted."""
    if personal or not view:
        return view
    return {
        key: (
            dict(value)
            | {
                "missing": [],
                "missing_count": value.get("missing_count", len(value.get("missing", []))),
            }
            if key in ("officials", "media") and isinstance(value, Mapping)
            else value
        )
        for key, value in view.items()
    }


def payload(value: Any, *, personal: bool) -> Any:
    """A journal payload: without need-to-know, the values of `PERSONAL_KEYS` are withheld."""
    if personal:
        return value
    if isinstance(value, Mapping):
        return {
            k: WITHHELD if k in PERSONAL_KEYS and v else payload(v, personal=False)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [payload(v, personal=False) for v in value]
    return value


def journal_actor(action: str, login: str | None, *, personal: bool) -> str | None:
    """The journal's « qui »: a recipient who replied is withheld without need-to-know."""
    if personal or action not in RECIPIENT_ACTIONS or not login:
        return login
    return "destinataire"


def sender(channel: str, value: str, *, personal: bool) -> str:
    """The sender of an inbound reply (a phone number or a Telegram id)."""
    return value if personal else masked(channel, value)


def contact_name(kind: str, name: str, *, personal: bool) -> str:
    """A contact's name: a person's is withheld without need-to-know, an organisation's is not."""
    return name if personal or kind == ContactKind.ORGANISATION else WITHHELD


def contact(data: dict[str, Any], *, personal: bool) -> dict[str, Any]:
    """A directory contact's view: without need-to-know, no name, key or masked channels."""
    if personal:
        return data
    person = data.get("kind") != ContactKind.ORGANISATION
    shown = {k: v for k, v in data.items() if k not in ("key", "function_since")} | {
        "channels": [c | {"address": masked(c["kind"], c["address"])} for c in data["channels"]],
    }
    if person:
        shown |= {"name": WITHHELD, "first_name": "", "last_name": WITHHELD}
    return shown


def journal_entries(entries: Iterable[JournalEntry], *, personal: bool) -> list[JournalEntry]:
    """Journal entries as shown: copies whose recipients' data is withheld without need-to-know."""
    if personal:
        return list(entries)
    return [
        JournalEntry(
            **entry.model_dump()
            | {
                "actor": journal_actor(entry.action, entry.actor, personal=False),
                "payload": canonical_json(payload(json.loads(entry.payload), personal=False)),
            }
        )
        for entry in entries
    ]
