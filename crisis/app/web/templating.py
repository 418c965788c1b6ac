"""Jinja2 templates, with the filters and labels every page uses."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from crisis import labels
from crisis.actors import ROLE_LABELS, Actor, Role
from crisis.app.auth import csrf_token
from crisis.app.clock import paris
from crisis.journal import JournalEntry
from crisis.journal_details import Detail, describe
from crisis.labels import action_label, actor_label, count, kind_label, label_of, status_label

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

NAV_LINKS: list[tuple[str, str]] = [
    ("/", "Tableau de bord"),
    ("/main-courante", "Main courante"),
    ("/fiches-reflexes", "Fiches réflexes"),
    ("/annuaire", "Annuaire"),
    ("/astreinte", "Astreinte"),
]
# Links shown only to the roles that may open them.
ROLE_NAV_LINKS: list[tuple[str, str, Role]] = [
    ("/exercices", "Exercices", Role.TRAINER),
    ("/exercices", "Exercices", Role.PREFECT),
    ("/cip", "CIP", Role.OPERATOR),
    ("/canaux", "Canaux", Role.ADMIN),
    ("/utilisateurs", "Utilisateurs", Role.ADMIN),
]
# The DSFR footer's mandatory links: public pages of `crisis.app.web.legal_pages`.
FOOTER_LINKS: list[tuple[str, str]] = [
    ("/accessibilite", "Accessibilité : non conforme"),
    ("/mentions-legales", "Mentions légales"),
    ("/donnees-personnelles", "Données personnelles"),
]


def format_paris(value: datetime | None) -> str:
    """« 28/11/2026 à 15 h 05 » in Paris time."""
    if value is None:
        return "—"
    local = paris(value)
    return f"{local:%d/%m/%Y} à {local.hour} h {local.minute:02d}"


def journal_detail(entry: JournalEntry) -> Detail:
    """An entry's « Détail » in French (never its raw payload)."""
    return describe(entry.action, json.loads(entry.payload))


def _nav_links(actor: Actor | None) -> list[tuple[str, str]]:
    roles = actor.roles if actor else frozenset()
    shown = [(href, label) for href, label, role in ROLE_NAV_LINKS if role in roles]
    return NAV_LINKS + list(dict.fromkeys(shown))


def _page_context(request: Request) -> dict[str, Any]:
    actor = getattr(request.state, "actor", None)
    return {
        "actor": actor,
        "csrf": csrf_token(request),
        "nav_links": _nav_links(actor),
        "flashes": request.session.pop("flashes", []),
    }


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES), context_processors=[_page_context])
    env = templates.env
    env.filters["paris"] = format_paris
    env.filters["channel_label"] = lambda kind: labels.label_of(labels.CHANNEL_LABELS, kind)
    env.filters["clock_status"] = lambda status: labels.label_of(labels.CLOCK_STATUS_LABELS, status)
    env.globals.update(kind_label=kind_label, status_label=status_label, action_label=action_label)
    env.globals.update(
        actor_label=actor_label,
        journal_detail=journal_detail,
        count=count,
        label_of=label_of,
        role_label=lambda role: label_of(ROLE_LABELS, role),
        channel_label=lambda kind: label_of(labels.CHANNEL_LABELS, kind),
        audience_label=lambda audience: label_of(labels.AUDIENCE_LABELS, audience),
        area_label=lambda level: label_of(labels.AREA_LEVEL_LABELS, level),
        cabinet_kind_labels=labels.CABINET_KIND_LABELS,
        cap_category_labels=labels.CAP_CATEGORY_LABELS,
        cap_urgency_labels=labels.CAP_URGENCY_LABELS,
        cap_severity_labels=labels.CAP_SEVERITY_LABELS,
        cap_certainty_labels=labels.CAP_CERTAINTY_LABELS,
    )
    env.globals.update(
        audience_labels=labels.AUDIENCE_LABELS,
        channel_labels=labels.CHANNEL_LABELS,
        status_labels=labels.BULLETIN_STATUS_LABELS,
        delivery_labels=labels.DELIVERY_STATUS_LABELS,
        msg_type_labels=labels.MSG_TYPE_LABELS,
        mode_labels=labels.MODE_LABELS,
        role_labels=ROLE_LABELS,
        footer_links=FOOTER_LINKS,
    )
    return templates


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from the app's templates; the vocabularies' labels are always there."""
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    return response


def flash(request: Request, level: str, text: str) -> None:
    """A message shown once on the next page (levels: success, info, warning, error)."""
    request.session.setdefault("flashes", []).append((level, text))
