"""Sandbox fakes run in their own process, so the client under test has its core alone."""

from __future__ import annotations

import asyncio
import multiprocessing
from multiprocessing.connection import Connection
from typing import Any


def _serve_smtp(conn: Connection) -> None:
    from channels.sandbox.smtp import SmtpFake

    async def main() -> None:
        fake = SmtpFake(parse_bodies=False)
        await fake.start()
        conn.send(fake.port)
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "count":
                conn.send(fake.count)
            elif command == "reset":
                fake.count = 0
                conn.send(0)
            else:
                await fake.stop()
                conn.send(fake.count)
                return

    asyncio.run(main())


def _serve_telegram(conn: Connection, token: str) -> None:
    from channels.sandbox.http import HttpServer
    from channels.sandbox.telegram_api import TelegramFake

    async def main() -> None:
        fake = TelegramFake(token=token)
        server = HttpServer(fake.app())
        await server.start()
        conn.send(server.url)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, conn.recv)
        await server.stop()
        conn.send("stopped")

    asyncio.run(main())


class ServerProcess:
    def __init__(self, target: Any, *args: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=target, args=(child, *args), daemon=True)

    def __enter__(self) -> ServerProcess:
        self.process.start()
        self.address = self.conn.recv()
        return self

    def ask(self, command: str) -> Any:
        self.conn.send(command)
        return self.conn.recv()

    def __exit__(self, *exc: object) -> None:
        try:
            self.ask("stop")
        finally:
            self.process.join(timeout=10)
            if self.process.is_alive():
                self.process.terminate()


def smtp_server() -> ServerProcess:
    return ServerProcess(_serve_smtp)


def telegram_server(token: str) -> ServerProcess:
    return ServerProcess(_serve_telegram, token)
