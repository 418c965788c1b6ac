"""« Écrire à la CIP »: the sandbox plays a citizen who e-mails the CIP's address.

The page (`/_sandbox/cip` on the dashboard) sends a real e-mail by SMTP to Tocsin's own CIP
endpoint (`urls["cip_inbox"]`, `smtp://host:port`, and `urls["cip_address"]`), and shows what
the endpoint answered: accepted with the request's number, or refused with the reason."""

from __future__ import annotations

import html
from collections.abc import Mapping
from email.message import EmailMessage
from urllib.parse import urlsplit

import aiosmtplib
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

__all__ = ["cip_routes", "send_to_cip"]

_SENT: list[tuple[str, str]] = []  # (subject, outcome), newest last


async def send_to_cip(
    urls: Mapping[str, str], *, sender: str, subject: str, body: str, to: str = ""
) -> str:
    """What Tocsin's endpoint answered, in words."""
    target = urlsplit(urls.get("cip_inbox", ""))
    if not target.hostname or not target.port:
        return "Boîte de la CIP non servie (TOCSIN_CIP_SMTP_PORT absent)."
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to or urls.get("cip_address", "")
    message["Subject"] = subject
    message.set_content(body)
    try:
        _, reply = await aiosmtplib.send(
            message, hostname=target.hostname, port=target.port, timeout=10
        )
    except aiosmtplib.SMTPRecipientsRefused as refused:
        return f"refusé : {refused.recipients[0].message}"
    except aiosmtplib.SMTPResponseException as refused:
        return f"refusé ({refused.code}) : {refused.message}"
    except (aiosmtplib.SMTPException, OSError) as failed:
        return f"échec : {failed}"
    return f"accepté : {reply}"


def _page(urls: Mapping[str, str]) -> str:
    sent = "".join(
        f"<li>« {html.escape(s)} » → {html.escape(o)}</li>" for s, o in reversed(_SENT[-20:])
    )
    address = html.escape(urls.get("cip_address", ""))
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        "<title>Écrire à la CIP — bac à sable — Tocsin</title>"
        "<style>body{font-family:sans-serif;margin:2rem}label{display:block;margin:.5rem 0}"
        "</style></head><body><h1>Écrire à la cellule d’information du public</h1>"
        f"<p>Un courriel réel, par SMTP, à l’adresse de la CIP (<code>{address}</code>) servie "
        'par Tocsin ; il apparaît sur la console de la CIP. <a href="/">Bac à sable</a></p>'
        '<form method="post" action="/_sandbox/cip">'
        '<label>De <input name="sender" size="40" '
        'value="Jeanne Riveraine &lt;jeanne.riveraine@exemple.test&gt;"></label>'
        f'<label>À <input name="to" size="40" value="{address}"></label>'
        '<label>Objet <input name="subject" size="40" value="Route de Pont-Remy"></label>'
        '<label>Message <textarea name="body" rows="5" cols="60">'
        "La route de Pont-Remy est-elle rouverte ? Merci.</textarea></label>"
        "<button>Envoyer à la CIP</button></form>"
        + (f"<h2>Envoyés</h2><ul>{sent}</ul>" if sent else "")
        + "</body></html>"
    )


def cip_routes(urls: Mapping[str, str]) -> list[Route]:
    async def page(request: Request) -> Response:
        return HTMLResponse(_page(urls))

    async def send(request: Request) -> Response:
        form = await request.form()
        subject = str(form.get("subject", ""))[:300]
        outcome = await send_to_cip(
            urls,
            sender=str(form.get("sender", ""))[:320],
            subject=subject,
            body=str(form.get("body", ""))[:20_000],
            to=str(form.get("to", ""))[:320],
        )
        _SENT.append((subject, outcome))
        return HTMLResponse(_page(urls))

    return [
        Route("/_sandbox/cip", page, methods=["GET"]),
        Route("/_sandbox/cip", send, methods=["POST"]),
    ]
