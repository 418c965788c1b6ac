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

from channels._http import HttpAdapter
from channels.base import ChannelHealth, Message, Receipt, Recipient, provider_key
from channels.config import MatrixConfig
from channels.kinds import ChannelKind
from channels.masking import mask

__all__ = ["MatrixChannel"]

_API = "/_matrix/client/v3"
_NOT_IN_ROOM = frozenset({403, 404})


class MatrixChannel(HttpAdapter[MatrixConfig]):
    KIND = ChannelKind.MATRIX

    def __init__(self, config: MatrixConfig, *, name: str = "matrix") -> None:
        super().__init__(config, name=name, secret=config.access_token)
        self._base = config.homeserver_url.rstrip("/") + _API
        self._direct_rooms: dict[str, str] = {}

    async def _request(
        self, method: str, path: str, *, recipient: str = "", json: object = None
    ) -> httpx.Response:
        return await self._call(
            method,
            self._base + path,
            json=json,
            headers=self._headers(),
            recipient=recipient,
            recipient_statuses=_NOT_IN_ROOM,
        )

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
        return await self._probe(
            self._base + "/account/whoami",
            settings={
                "homeserver_url": self._config.homeserver_url,
                "access_token": mask(self._secret),
            },
            ok=lambda response: f"Connecté en tant que {response.json().get('user_id', '?')}",
        )
