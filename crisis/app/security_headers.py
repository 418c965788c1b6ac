"""Security headers on every response: CSP, framing, referrer, sniffing, HSTS, caching."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""No inline script, no style attribute: the pages load only our files and DSFR's
(DSFR's icons are `data:` SVG masks)."""

API_DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
"""FastAPI's Swagger page only: its fixed inline start-up script and the CDN it loads from."""

API_DOCS = ("/api/docs", "/docs/oauth2-redirect")

HSTS = "max-age=31536000; includeSubDomains"

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def headers_for(path: str, *, https: bool) -> dict[str, str]:
    """What a response to `path` carries (a header the route set itself is kept). Nothing but
    the static files is cached by default: every page sets the session cookie that holds its
    CSRF token, and a shared cache must never keep a `Set-Cookie`. The public pages, feed and
    CAP files (`crisis.app.web.public_answers`) set no cookie and their own Cache-Control."""
    headers = dict(ALWAYS)
    headers["Content-Security-Policy"] = (
        API_DOCS_POLICY if path in API_DOCS else CONTENT_SECURITY_POLICY
    )
    if https:
        headers["Strict-Transport-Security"] = HSTS
    if not path.startswith("/static/"):  # static files keep their own caching
        headers["Cache-Control"] = "no-store"
    return headers


class SecurityHeaders:
    """Add the headers to each response start. HSTS only when the request came over TLS: the
    scheme uvicorn reports, `https` directly or through a proxy it trusts (`X-Forwarded-Proto`
    from `FORWARDED_ALLOW_IPS`, 127.0.0.1 by default); never on plain HTTP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in headers_for(scope["path"], https=https).items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
