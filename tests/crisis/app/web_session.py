"""Log in through the real form, as a browser would, and keep the CSRF token at hand."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import httpx
from fastapi import Request

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def log_in(client: httpx.AsyncClient, login: str, password: str) -> str:
    """Log in; returns the CSRF token of the authenticated session."""
    page = await client.get("/connexion")
    answer = await client.post(
        "/connexion",
        data={"login": login, "password": password, "csrf_token": csrf_of(page.text)},
    )
    assert answer.status_code == 303, answer.text
    return csrf_of((await client.get("/")).text)


async def declare_from_form(
    client: httpx.AsyncClient, csrf: str, title: str, **fields: str
) -> httpx.Response:
    """Post the declaration form for Abbeville, as a prefect would fill it in."""
    form = {"title": title, "kind": "crue", "mode": "real", "communes": "80001"}
    return await client.post("/evenements/nouveau", data=form | fields | {"csrf_token": csrf})


def page_request(*, state: dict[str, Any] | None = None, **app_state: Any) -> Request:
    """A browser's bare GET of the dashboard, for the parts that serve pages driven directly:
    no cookie, no header, an empty session; `app_state` is what `request.app.state` holds (the
    clock…), `state` what the request's own state holds (the journal head its check read…)."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [],
        "app": SimpleNamespace(state=SimpleNamespace(**app_state)),
        "session": {},
        "state": state or {},
    }
    return Request(scope)
