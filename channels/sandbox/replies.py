"""Simulated answers: a fake posts a person's reply to Tocsin's inbound webhook, over HTTP,
as the real provider would (Telegram's `setWebhook` update, the SMS gateway's signed JSON).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from channels.sandbox.state import FakeState, Received

__all__ = ["ReplyTarget", "answer", "deliver", "reply_form", "suggested_answer"]

_CODE = re.compile(r"\bOK(?:\s|\u00a0)(\d{4})\b")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyTarget:
    """Where a fake delivers replies: Tocsin's inbound URL and the secret it expects."""

    url: str
    secret: str


def suggested_answer(text: str) -> str:
    """« OK » with the code the message asks for, as a person would type it."""
    match = _CODE.search(text)
    return f"OK {match.group(1)}" if match else "OK"


async def reply_form(request: Request) -> dict[str, str]:
    """The fields of `POST /_sandbox/reply`, sent as JSON or as the sandbox page's form."""
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        data: dict[str, Any] = body if isinstance(body, dict) else {}
    else:
        data = dict(await request.form())
    return {key: str(value) for key, value in data.items() if value is not None}


async def deliver(
    target: ReplyTarget | None, *, content: bytes, headers: dict[str, str]
) -> dict[str, Any]:
    """Post the reply to Tocsin: `{"status", "answer"}` as Tocsin gave them."""
    if target is None:
        return {"status": 0, "error": "aucune adresse de Tocsin pour les réponses"}
    async with httpx.AsyncClient(timeout=10.0) as client:
        try:
            answer = await client.post(
                target.url,
                content=content,
                headers={"Content-Type": "application/json", **headers},
            )
        except httpx.HTTPError as error:
            return {"status": 0, "error": f"Tocsin injoignable : {type(error).__name__}"}
    result: dict[str, Any] = {"status": answer.status_code}
    if answer.headers.get("content-type", "").startswith("application/json"):
        result["answer"] = answer.json()
    return result


def outcome_of(result: dict[str, Any]) -> str:
    """What Tocsin did with the reply, in a word, for the sandbox page."""
    answer = result.get("answer")
    if isinstance(answer, dict) and "outcome" in answer:
        return str(answer["outcome"])
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        return f"refusée ({result['status']}) : {answer['error'].get('message', '')}"
    return str(result.get("error") or f"HTTP {result.get('status')}")


async def answer(
    request: Request,
    state: FakeState,
    *,
    reply: Received,
    target: ReplyTarget | None,
    content: bytes,
    headers: dict[str, str],
) -> Response:
    """Post `reply` to Tocsin, record it with what Tocsin did, and answer the caller: the
    page's form goes back to the page, a JSON call gets Tocsin's answer."""
    result = await deliver(target, content=content, headers=headers)
    state.replies.append(replace(reply, meta={**reply.meta, "outcome": outcome_of(result)}))
    back = request.headers.get("referer")
    if back and not request.headers.get("content-type", "").startswith("application/json"):
        return RedirectResponse(back, status_code=303)
    return JSONResponse(result, status_code=502 if result.get("status") == 0 else 200)
