"""Matrix client-server API over httpx (Tchap is Matrix), for staff rooms.

Rooms (``!room:server``) receive ``m.room.message`` events sent with
``PUT /rooms/{room}/send/m.room.message/{txnId}``; the txnId is derived from the
idempotency key, so the homeserver drops a retried event. A user (``@user:server``) gets a
direct room created once per process.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from channels._http import check_response, make_client, map_error
from channels.base import ChannelHealth, Message, Receipt, Recipient, provider_key
from channels.config import MatrixConfig
from channels.errors import ChannelError
from channels.kinds import ChannelKind
from channels.masking import mask

__all__ = ["MatrixChannel"]

_API = "/_matrix/client/v3"
_NOT_IN_ROOM = frozenset({403, 404})


class MatrixChannel:
    def __init__(self, config: MatrixConfig, *, name: str = "matrix") -> None:
        self._config = config
        self._name = name
        self._base = config.homeserver_url.rstrip("/") + _API
        self._client = make_client(timeout=config.timeout)
        self._direct_rooms: dict[str, str] = {}

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.MATRIX

    @property
    def name(self) -> str:
        return self._name

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._config.access_token.get_secret_value()}"}

    def _secrets(self) -> list[str]:
        return [self._config.access_token.get_secret_value()]

    async def _request(
        self, method: str, path: str, *, recipient: str = "", json: object = None
    ) -> httpx.Response:
        try:
            response = await self._client.request(
                method, self._base + path, json=json, headers=self._headers()
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise map_error(exc, kind=self.kind, secrets=self._secrets()) from None
        check_response(
            response,
            kind=self.kind,
            secrets=self._secrets(),
            recipient=recipient,
            recipient_statuses=_NOT_IN_ROOM,
        )
        return response

    async def _room_for(self, recipient: Recipient) -> str:
        if recipient.address.startswith("!"):
            return recipient.address
        room = self._direct_rooms.get(recipient.address)
        if room is None:
            response = await self._request(
                "POST",
                "/createRoom",
                recipient=str(recipient),
                json={
                    "is_direct": True,
                    "invite": [recipient.address],
                    "preset": "trusted_private_chat",
                },
            )
            room = str(response.json()["room_id"])
            self._direct_rooms[recipient.address] = room
        return room

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        room = await self._room_for(recipient)
        content: dict[str, str] = {"msgtype": "m.text", "body": message.text}
        if message.html:
            content |= {"format": "org.matrix.custom.html", "formatted_body": message.html}
        txn = provider_key(message.idempotency_key)
        path = f"/rooms/{quote(room, safe='')}/send/m.room.message/{txn}"
        response = await self._request("PUT", path, recipient=str(recipient), json=content)
        return Receipt(
            provider_id=str(response.json().get("event_id", "")),
            raw_status=str(response.status_code),
            accepted_at=datetime.now(UTC),
        )

    async def check(self) -> ChannelHealth:
        settings = {
            "homeserver_url": self._config.homeserver_url,
            "access_token": mask(self._config.access_token.get_secret_value()),
        }
        try:
            response = await self._request("GET", "/account/whoami")
        except ChannelError as exc:
            return self._health(ok=False, detail=exc.message, settings=settings)
        user = response.json().get("user_id", "?")
        return self._health(ok=True, detail=f"Connecté en tant que {user}", settings=settings)

    def _health(self, *, ok: bool, detail: str, settings: dict[str, str]) -> ChannelHealth:
        return ChannelHealth(
            kind=self.kind,
            name=self._name,
            ok=ok,
            detail=detail,
            sandbox=self._config.sandbox,
            settings=settings,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
