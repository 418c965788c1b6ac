"""One keep-alive HTTP/1.1 connection doing the least client work there is.

A bench that stands for 20 people in front of 20 PCs runs their 20 clients on the server's own
machine. With httpx each request costs the bench 2 to 4 ms of CPU, taken from the cores the
server needs; here a request is bytes written and a status line read (≈ 0.2 ms), so the
measure is the server's."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Lane:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    host: str

    @classmethod
    async def open(cls, base_url: str) -> Lane:
        parts = urlsplit(base_url)
        assert parts.scheme == "http" and parts.hostname and parts.port, base_url
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, f"{parts.hostname}:{parts.port}")

    async def post_json(self, path: str, body: object, *, token: str) -> tuple[int, bytes]:
        """(status, body) of one POST; the response must carry a Content-Length."""
        if self.reader.at_eof():  # the server closed it while idle: a browser opens another
            await self.close()
            self.reader, self.writer = await asyncio.open_connection(*self.host.split(":"))
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        status_line, _, headers = (await self.reader.readuntil(b"\r\n\r\n")).partition(b"\r\n")
        length = 0
        for line in headers.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(status_line.split(b" ", 2)[1]), await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()
