"""The sandbox dashboard: a plain HTML page listing what each fake received."""

from __future__ import annotations

import html
from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from channels.sandbox.cip_inbox import cip_routes
from channels.sandbox.control import Obeys, control_routes
from channels.sandbox.replies import suggested_answer
from channels.sandbox.state import FakeState, Received

__all__ = ["dashboard_app", "render_page"]

_LABELS = {
    "smtp": "Courriel (SMTP)",
    "telegram": "Telegram",
    "x": "X",
    "mastodon": "Mastodon",
    "matrix": "Matrix / Tchap",
    "sms": "SMS",
    "webhook": "Webhooks",
}


def render_page(states: Mapping[str, FakeState], urls: Mapping[str, str]) -> str:
    sections = []
    for name, state in states.items():
        rows = "\n".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}<pre>{}</pre></td></tr>".format(
                html.escape(m.at.strftime("%H:%M:%S")),
                html.escape(m.recipient),
                html.escape(m.subject),
                _thread_line(m),
                html.escape(m.text),
            )
            for m in reversed(state.received[-200:])
        )
        sections.append(
            f"<section><h2>{html.escape(_LABELS.get(name, name))}</h2>"
            f"<p>Adresse : <code>{html.escape(urls.get(name, ''))}</code> — "
            f"{len(state.received)} message(s) reçu(s), {state.rate_limited} refus pour "
            f"limite de débit, {state.delivered_twice} message(s) remis deux fois, "
            f"{state.absorbed} renvoi(s) reconnu(s) et non remis.</p>"
            + (
                "<table><thead><tr><th>Heure</th><th>Destinataire</th><th>Objet</th>"
                f"<th>Texte</th></tr></thead><tbody>{rows}</tbody></table>"
                if rows
                else "<p><em>Aucun message reçu pour l’instant.</em></p>"
            )
            + _reply_block(name, state, urls)
            + "</section>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="3">'
        "<title>Bac à sable des canaux — Tocsin</title>"
        "<style>body{font-family:sans-serif;margin:2rem}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3rem;vertical-align:top;text-align:left}"
        "pre{white-space:pre-wrap;margin:0}.thread{margin:0 0 .3rem;color:#555}</style>"
        "</head><body>"
        "<h1>Bac à sable des canaux</h1>"
        "<p>Faux services locaux : rien ne sort de cette machine. "
        "La page se rafraîchit toutes les 3 secondes. "
        '<a href="/_sandbox/cip">Écrire à la CIP (demande écrite)</a></p>'
        + "\n".join(sections)
        + "</body></html>"
    )


def _thread_line(message: Received) -> str:
    """Each X post with its id and the post it answers, so that a thread reads from the page."""
    if message.fake != "x":
        return ""
    line = f"Message n° {html.escape(message.key)}"
    parent = message.meta.get("in_reply_to")
    if parent:
        line += f", en réponse au message n° {html.escape(parent)}"
    return f'<p class="thread">{line}</p>'


def dashboard_app(
    states: Mapping[str, FakeState], urls: Mapping[str, str], sandbox: Obeys
) -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(render_page(states, urls))

    async def messages(request: Request) -> Response:
        return JSONResponse(
            {name: [m.as_json() for m in state.received] for name, state in states.items()}
        )

    return Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/_sandbox/messages", messages, methods=["GET"]),
            *cip_routes(urls),
            *control_routes(urls, sandbox),
        ]
    )


_REPLYABLE = {"telegram": "Discussion", "sms": "Numéro"}
_OUTCOMES = {
    "acknowledged": "appel d'astreinte acquitté",
    "confirmed": "réception confirmée",
    "already": "déjà enregistrée",
    "unrecognised": "non reconnue (inscrite à la main courante)",
    "ignored": "ignorée",
    "duplicate": "renvoi d’une réponse déjà traitée, sans effet",
}


def _reply_block(name: str, state: FakeState, urls: Mapping[str, str]) -> str:
    """« Simuler une réponse »: answer one of the last messages as its recipient would."""
    if name not in _REPLYABLE or name not in urls:
        return ""
    action = html.escape(f"{urls[name]}/_sandbox/reply")
    forms = []
    for message in list(reversed(state.received))[:5]:
        reply_to = message.meta.get("message_id", "") if name == "telegram" else ""
        hidden = f'<input type="hidden" name="reply_to" value="{html.escape(reply_to)}">'
        forms.append(
            f'<form method="post" action="{action}"><label>{_REPLYABLE[name]} '
            f'<input name="to" value="{html.escape(message.recipient)}" size="14"></label> '
            f'<label>Texte <input name="text" value="{html.escape(suggested_answer(message.text))}"'
            f' size="10"></label> {hidden if reply_to else ""}'
            f"<button>Répondre{' à ce message' if reply_to else ''}</button></form>"
        )
    replies = "".join(
        "<li>{} — {} : « {} » → {}</li>".format(
            html.escape(r.at.strftime("%H:%M:%S")),
            html.escape(r.recipient),
            html.escape(r.text),
            html.escape(_OUTCOMES.get(r.meta.get("outcome", ""), r.meta.get("outcome", ""))),
        )
        for r in reversed(state.replies[-20:])
    )
    return (
        "<h3>Simuler une réponse</h3>"
        + ("".join(forms) or "<p><em>Aucun message auquel répondre.</em></p>")
        + (f"<ul>{replies}</ul>" if replies else "")
    )
