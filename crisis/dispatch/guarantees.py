"""What each channel guarantees about a send interrupted by a crash (issue 17 item 5).

A delivery left ``sending`` by a stopped instance is sent again: its outcome is unknown (the
provider may have accepted it before the crash, the record did not follow). Where the
provider honours a key, the resend carries the same key and is recognised; where it does
not (Telegram, and X beyond its refusal of an identical text), the recipient may get the
message twice: at least once, never silently lost. ``after_crash`` is the French sentence for
the journal and the delivery's ``last_error``; ``after_crash_sql`` the same as a SQL
expression for a recovery that updates many deliveries in one statement.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from channels.kinds import ChannelKind

__all__ = ["AFTER_CRASH", "GENERIC", "after_crash", "after_crash_sql", "guarantee"]

_PREFIX = "Envoi interrompu (service arrêté pendant l'envoi), relancé avec la même clé : "

AFTER_CRASH: dict[ChannelKind, str] = {
    ChannelKind.EMAIL: _PREFIX
    + "le courriel a pu partir deux fois, sous le même Message-ID qui permet de le "
    "reconnaître.",
    ChannelKind.TELEGRAM: _PREFIX
    + "Telegram n'a pas de clé d'idempotence, ce message a pu être reçu deux fois.",
    ChannelKind.X: _PREFIX
    + "X refuse un texte déjà publié, mais sans clé d'idempotence un message a pu "
    "paraître deux fois (ou un fil rester à compléter à la main).",
    ChannelKind.MASTODON: _PREFIX
    + "Mastodon reconnaît la clé (Idempotency-Key) pendant une heure, pas de doublon.",
    ChannelKind.MATRIX: _PREFIX + "Matrix reconnaît l'identifiant de transaction, pas de doublon.",
    ChannelKind.SMS: _PREFIX + "la passerelle reconnaît la référence, pas de doublon.",
    ChannelKind.WEBHOOK: _PREFIX
    + "le destinataire reçoit la même clé (X-Tocsin-Idempotency-Key) et doit "
    "ignorer le doublon.",
    ChannelKind.APPRISE: _PREFIX
    + "Apprise n'a pas de clé d'idempotence, ce message a pu être reçu deux fois.",
}
GENERIC = _PREFIX + "ce message a pu être reçu deux fois."


def after_crash(channel: str) -> str:
    """What a resend after a crash guarantees on ``channel`` (a ``ChannelKind`` value)."""
    try:
        return AFTER_CRASH[ChannelKind(channel)]
    except ValueError:
        return GENERIC


def guarantee(channel: str) -> str:
    """The guarantee alone, as a sentence (« Telegram n'a pas de clé… »), for the journal and
    the tracking page that already say the send was interrupted."""
    text = after_crash(channel).removeprefix(_PREFIX)
    return text[:1].upper() + text[1:]


def after_crash_sql(channel: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """``after_crash`` of each row's ``channel`` column, for one ``UPDATE`` of many rows:
    ``.values(last_error=after_crash_sql(DELIVERY.c.channel))``."""
    cases = {kind.value: text for kind, text in AFTER_CRASH.items()}
    return sa.case(cases, value=channel, else_=GENERIC)
