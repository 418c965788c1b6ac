"""The main courante as people read it: each entry's detail as a French sentence and a few
labelled fields, never its raw payload (the API keeps the JSON).

One small renderer per family of actions; any other entry goes through a generic one that
labels each key in French and translates the vocabularies' codes (`crisis.labels`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contacts.roster import DUTY_LABELS
from crisis.actors import ROLE_LABELS
from crisis.cell.clocks import ClockStatus
from crisis.journal_keys import KEY_LABELS
from crisis.labels import (
    AUDIENCE_LABELS,
    BULLETIN_STATUS_LABELS,
    CHANNEL_LABELS,
    CLOCK_STATUS_LABELS,
    CLOSED_BEFORE_MET,
    CONFIRMATION_METHOD_LABELS,
    DELIVERY_STATUS_LABELS,
    MODE_LABELS,
    MSG_TYPE_LABELS,
    STATUS_LABELS,
    action_label,
    actor_label,
    count,
    kind_label,
    label_of,
)
from crisis.vocabulary import CrisisMode
from playbooks.formatting import paris

logger = logging.getLogger(__name__)

Fields = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Detail:
    """What the « Détail » column shows: a sentence, then labelled fields."""

    sentence: str = ""
    fields: Fields = field(default_factory=list)


def when(value: Any) -> str:
    """« 28/11/2026 à 15 h 05 » (Paris) from a datetime or its ISO text; other text unchanged."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        return str(value)
    local = paris(moment)
    return f"{local:%d/%m/%Y} à {local.hour} h {local.minute:02d}"


def yes_no(value: Any) -> str:
    return "oui" if value else "non"


OTHER_KEY = "Autre information"

_TIMES = frozenset(
    {
        "activated_at",
        "done_at",
        "due_at",
        "ends_at",
        "met_at",
        "next_run_at",
        "occurred_at",
        "occurrence_at",
        "started_at",
        "starts_at",
    }
)
_STATUSES = {**STATUS_LABELS, **BULLETIN_STATUS_LABELS, **DELIVERY_STATUS_LABELS}
"""A crisis', a bulletin's and a delivery's statuses: three sets without a common value."""
_CODES: dict[str, Callable[[str], str]] = {
    "audience": lambda v: label_of(AUDIENCE_LABELS, v),
    "channel": lambda v: label_of(CHANNEL_LABELS, v),
    "via": lambda v: label_of(CHANNEL_LABELS, v),
    "kind": kind_label,
    "method": lambda v: label_of(CONFIRMATION_METHOD_LABELS, v),
    "mode": lambda v: label_of(MODE_LABELS, v),
    "msg_type": lambda v: label_of(MSG_TYPE_LABELS, v),
    "role": lambda v: label_of(DUTY_LABELS, v) if v in DUTY_LABELS else label_of(ROLE_LABELS, v),
    "roles": lambda v: label_of(ROLE_LABELS, v),
    "status": lambda v: label_of(_STATUSES, v),
}


def value_text(key: str, value: Any) -> str:
    """One payload value in French: codes labelled, times in Paris, yes/no, lists joined."""
    if isinstance(value, bool):
        return yes_no(value)
    if value is None:
        return "—"
    if isinstance(value, Mapping):
        return " ; ".join(
            f"{key_label(k)} : {value_text(k, v)}" for k, v in value.items() if v is not None
        )
    if isinstance(value, list):
        return ", ".join(value_text(key, v) for v in value) or "aucun"
    if key in _TIMES:
        return when(value)
    if key in _CODES and isinstance(value, str):
        return _CODES[key](value)
    if key == "content_hash" and isinstance(value, str):
        return value[:16] + "…"
    return str(value)


def key_label(key: str) -> str:
    return KEY_LABELS.get(key, OTHER_KEY)


def generic(payload: Mapping[str, Any], *, skip: frozenset[str] = frozenset()) -> Fields:
    """Each key labelled in French, each value in French; empty values left out."""
    return [
        (key_label(k), value_text(k, v))
        for k, v in payload.items()
        if k not in skip and v not in (None, "", [], {})
    ]


def _bulletin_name(p: Mapping[str, Any]) -> str:
    title = p.get("title")
    number = f"Communiqué n° {p.get('bulletin_id')}"
    return f"{number} « {title} »" if title else number


_BULLETIN_HIDDEN = frozenset(
    {"bulletin_id", "title", "references", "content_hash", "editors", CrisisMode.EXERCISE}
)


def _bulletin(p: Mapping[str, Any]) -> Detail:
    fields = generic(p, skip=_BULLETIN_HIDDEN | {"deliveries", "to_call", "public"})
    if "deliveries" in p:
        fields.append(("Envois", count(int(p["deliveries"] or 0), "envoi", "envois")))
        fields.append(("À appeler", count(int(p.get("to_call") or 0), "élu", "élus")))
    return Detail(_bulletin_name(p), fields)


def _to_call(p: Mapping[str, Any]) -> Detail:
    people = count(int(p.get("count") or 0), "destinataire", "destinataires")
    sentence = (
        f"{people} à appeler : pas de confirmation {p.get('after_minutes')} min après l'envoi "
        f"du communiqué n° {p.get('bulletin_id')}."
    )
    return Detail(sentence)


def _person(member: Mapping[str, Any]) -> str:
    role = label_of(DUTY_LABELS, str(member.get("role", "")))
    level = f", niveau {member['level']}" if member.get("level") else ""
    return f"{member.get('name') or '—'} ({role}{level})"


def _people(key: str, intro: str) -> Callable[[Mapping[str, Any]], Detail]:
    def render(p: Mapping[str, Any]) -> Detail:
        people = [_person(m) for m in p.get(key) or [] if isinstance(m, Mapping)]
        return Detail(f"{intro} : {', '.join(people)}." if people else "Personne.")

    return render


def _acknowledged(p: Mapping[str, Any]) -> Detail:
    role = label_of(DUTY_LABELS, str(p.get("role", "")))
    via = f", par {label_of(CHANNEL_LABELS, str(p['via']))}" if p.get("via") else ""
    fields = generic(p, skip=frozenset({"role", "name", "via", "person"}))
    return Detail(f"{p.get('name')} répond présent ({role}{via}).", fields)


def _clock_alert(p: Mapping[str, Any]) -> Detail:
    late = ", envoyée en retard" if p.get("late") else ""
    recipients = p.get("recipients") or 0  # a count (crisis.cell.clock_alerts), a list before
    number = recipients if isinstance(recipients, int) else len(recipients)
    people = count(number, "destinataire", "destinataires")
    return Detail(
        f"{p.get('clock')} : alerte du seuil {p.get('threshold_min')} min{late} ({people}).",
        [("Échéance", when(p.get("due_at")))],
    )


def _clock_met(p: Mapping[str, Any]) -> Detail:
    timing = "dans les délais" if p.get("on_time") else "en retard"
    return Detail(f"{p.get('clock')} tenu le {when(p.get('met_at'))}, {timing}.")


def _checklist(p: Mapping[str, Any]) -> Detail:
    if "position" not in p:
        return Detail("", generic(p))
    return Detail(f"Étape {p['position']} : {p.get('title')}")


def _declared(p: Mapping[str, Any]) -> Detail:
    communes = count(len(p.get("communes") or []), "commune", "communes")
    mode = label_of(MODE_LABELS, str(p.get("mode", "")))
    sentence = f"« {p.get('title')} » — {kind_label(str(p.get('kind', '')))}, {mode}, {communes}."
    return Detail(sentence, generic(p, skip=frozenset({"title", "kind", "mode", "communes"})))


def _closed(p: Mapping[str, Any]) -> Detail:
    # The statuses at the close: a clock still running then was not kept.
    closing = CLOCK_STATUS_LABELS | {ClockStatus.RUNNING: CLOSED_BEFORE_MET}
    clocks = [
        f"{c.get('code')} {label_of(closing, str(c.get('status')))}"
        for c in p.get("clocks") or []
        if isinstance(c, Mapping)
    ]
    sent = sum((p.get("deliveries") or {}).values()) if isinstance(p.get("deliveries"), dict) else 0
    fields: Fields = [("Horloges", ", ".join(clocks))] if clocks else []
    if "bulletins" in p:
        fields.append(("Communiqués", str(p["bulletins"])))
        fields.append(("Envois", count(sent, "envoi", "envois")))
    if "journal_entries" in p:
        fields.append(("Entrées de la main courante", str(p["journal_entries"])))
    return Detail("", fields)


def _cabinet(p: Mapping[str, Any]) -> Detail:
    fields: Fields = [("Heure du fait", when(p.get("occurred_at")))]
    if p.get("source"):
        fields.append(("Source", str(p["source"])))
    return Detail(str(p.get("text", "")), fields)


def _refused(p: Mapping[str, Any]) -> Detail:
    return Detail(str(p.get("message") or ""), generic(p, skip=frozenset({"message", "code"})))


def _delivery_confirmed(p: Mapping[str, Any]) -> Detail:
    method = label_of(CONFIRMATION_METHOD_LABELS, str(p.get("method", "")))
    skip = frozenset({"method", "delivery_id", "bulletin_id", "contact_id"})
    sentence = (
        f"Envoi n° {p.get('delivery_id')} du communiqué n° {p.get('bulletin_id')} : {method}."
    )
    return Detail(sentence, generic(p, skip=skip))


def _interrupted(p: Mapping[str, Any]) -> Detail:
    sends = count(int(p.get("count") or 0), "envoi interrompu", "envois interrompus")
    sentence = (
        f"Communiqué n° {p.get('bulletin_id')} : {sends} par l'arrêt d'une instance, "
        "relancés avec la même clé."
    )
    fields: Fields = [
        (
            label_of(CHANNEL_LABELS, str(c.get("channel", ""))),
            f"{count(int(c.get('count') or 0), 'envoi', 'envois')}. {c.get('guarantee') or ''}",
        )
        for c in p.get("channels") or []
        if isinstance(c, Mapping)
    ]
    return Detail(sentence, fields)


RENDERERS: dict[str, Callable[[Mapping[str, Any]], Detail]] = {
    "crisis.declared": _declared,
    "crisis.closed": _closed,
    "cell.paged": _people("paged", "Appelés"),
    "cell.operational": _people("members", "Présents"),
    "cell.acknowledged": _acknowledged,
    "clock.alert_sent": _clock_alert,
    "clock.met": _clock_met,
    "checklist.ticked": _checklist,
    "checklist.unticked": _checklist,
    "bulletin.to_call": _to_call,
    "bulletin.sends_interrupted": _interrupted,
    "delivery.confirmed": _delivery_confirmed,
    "refused": _refused,
}


def describe(action: str, payload: Mapping[str, Any]) -> Detail:
    """The French detail of one journal entry."""
    if action.startswith("cabinet."):
        return _cabinet(payload)
    render = RENDERERS.get(action) or (_bulletin if action.startswith("bulletin.") else None)
    if render is None:
        return Detail("", generic(payload))
    try:
        return render(payload)
    except (TypeError, ValueError, KeyError, AttributeError):
        # An entry written by an older version, in a shape this renderer no longer expects:
        # the journal stays readable, field by field, rather than failing the whole page.
        logger.warning("journal detail in an unexpected shape", extra={"action": action})
        return Detail("", generic(payload))


def searchable_text(action: str, actor: str, payload: Mapping[str, Any]) -> str:
    """The entry as shown, in one string: what a text search looks into."""
    detail = describe(action, payload)
    parts = [action_label(action), actor_label(actor), detail.sentence]
    parts += [f"{label} {value}" for label, value in detail.fields]
    return " ".join(parts)
