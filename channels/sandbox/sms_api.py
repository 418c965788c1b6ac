"""A fake SMS gateway speaking the protocol documented in ``channels.sms``.

A resend with a ``reference`` already used answers the first message's id with
``"duplicate": true`` and sends nothing, as the gateway's idempotency promises; it is noted
in ``state.duplicates`` (absorbed) so that a test sees the resend.

``POST /_sandbox/reply {to, text}`` plays the person at number ``to`` answering: the fake
posts the gateway's inbound JSON to ``reply_target``, signed with its secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.sandbox.http import bearer, fake_app, fault_response
from channels.sandbox.replies import ReplyTarget, answer, reply_form
from channels.sandbox.state import FakeState, Received
from channels.sms import INBOUND_SIGNATURE_HEADER
from channels.webhook import sign

__all__ = ["SmsFake"]


@dataclass(slots=True, kw_only=True)
class SmsFake:
    api_key: str
    state: FakeState = field(default_factory=lambda: FakeState(name="sms"))
    _by_key: dict[str, str] = field(default_factory=dict)
    _next: int = 1
    reply_target: ReplyTarget | None = None
    sender_id: str = "PREFET80"

    def app(self) -> Starlette:
        return fake_app(
            self.state,
            [
                Route("/sms", self._sms, methods=["GET", "POST"]),
                Route("/_sandbox/reply", self._reply, methods=["POST"]),
            ],
        )

    async def _reply(self, request: Request) -> Response:
        form = await reply_form(request)
        number, text = form.get("to", "").strip(), form.get("text", "")
        if not number.startswith("+") or not text.strip():
            return JSONResponse({"error": "indiquez le numéro (E.164) et le texte"}, 400)
        inbound = {
            "from": number,
            "to": self.sender_id,
            "text": text,
            "id": f"mo-{self._next}",
            "received_at": datetime.now(UTC).isoformat(),
        }
        self._next += 1
        body = json.dumps(inbound, ensure_ascii=False).encode("utf-8")
        target = self.reply_target
        return await answer(
            request,
            self.state,
            reply=Received(fake="sms", recipient=number, text=text),
            target=target,
            content=body,
            headers={INBOUND_SIGNATURE_HEADER: sign(secret=target.secret, body=body)}
            if target
            else {},
        )

    async def _sms(self, request: Request) -> Response:
        if bearer(request) != self.api_key:
            return JSONResponse({"error": "unauthorized"}, 401)
        if request.method == "GET":
            return JSONResponse({"status": "ok"})
        fault = await self.state.arrive()
        if fault is not None:
            return fault_response(fault)
        body = await request.json()
        to, key = str(body.get("to", "")), str(body.get("reference", ""))
        if not to.startswith("+") or to in self.state.rejected:
            return JSONResponse({"error": f"numéro refusé : {to}"}, 400)
        message = Received(
            fake="sms",
            recipient=to,
            text=str(body.get("text", "")),
            key=key,
            meta={"from": str(body.get("from", ""))},
        )
        if key in self._by_key:
            self.state.duplicate(message, absorbed=True)
            return JSONResponse({"id": self._by_key[key], "duplicate": True})
        sms_id, self._next = f"sms-{self._next}", self._next + 1
        self._by_key[key] = sms_id
        self.state.record(message)
        return JSONResponse({"id": sms_id}, 201)
