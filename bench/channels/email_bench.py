"""E-mail: N messages through EmailChannel vs a minimal raw aiosmtplib loop on 4 connections.

    .venv/bin/python -m bench.channels.email_bench [--messages 10000] [--rounds 2]

Both build one distinct two-part message per send (same headers and parts) and talk to the
sandbox SMTP server (aiosmtpd) running in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import binascii
import email.utils
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosmtplib

from bench.channels.servers import smtp_server
from channels.base import Message, Recipient
from channels.config import SmtpConfig
from channels.email import EmailChannel
from channels.kinds import ChannelKind

CONNECTIONS = 4
SENDER = "ne-pas-repondre@prefecture-sandbox.fr"
TEXT = "Crue de la Somme : évacuation préventive de la rue basse à 18 h.\n" * 8


@dataclass
class Result:
    name: str
    messages: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def _recipient(i: int) -> str:
    return f"maire{i % 800}@mairie-{i % 50}.fr"


async def run_adapter(port: int, n: int) -> Result:
    channel = EmailChannel(
        SmtpConfig(host="127.0.0.1", port=port, security="none", pool_size=CONNECTIONS)
    )
    queue = list(range(n))

    async def worker() -> None:
        while queue:
            i = queue.pop()
            message = Message(
                subject=f"Alerte {i}",
                text=TEXT,
                html=f"<p>{TEXT}</p>",
                idempotency_key=f"bench/{i}",
                audience="officials",
            )
            await channel.send(message, Recipient(kind=ChannelKind.EMAIL, address=_recipient(i)))

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS * 2)))
    seconds = time.perf_counter() - start
    await channel.aclose()
    return Result("adaptateur EmailChannel", n, seconds)


async def run_raw(port: int, n: int, *, connections: int = CONNECTIONS) -> Result:
    """The minimal loop: one message template, formatted per send, ``sendmail`` on
    ``connections`` persistent connections; nothing validated, no pool, no receipts.

    The template carries the headers and parts ``EmailChannel`` writes (``To`` with a
    name, ``Date``, ``Auto-Submitted``, ``X-Tocsin-Audience``, the same boundary), so the
    server receives as many lines and bytes from both sides."""
    queue = list(range(n))
    body = binascii.b2a_qp(TEXT.encode(), istext=True).replace(b"\n", b"\r\n")
    html = binascii.b2a_qp(f"<p>{TEXT}</p>".encode(), istext=True).replace(b"\n", b"\r\n")
    date = email.utils.format_datetime(datetime.now(UTC))
    template = (
        "From: =?utf-8?q?Pr=C3=A9fecture?= <" + SENDER + ">\r\n"
        "To: =?utf-8?q?Maire_n=C2=B0_{i}?= <{to}>\r\nDate: " + date + "\r\n"
        "Message-ID: <{i}.bench@tocsin.local>\r\nSubject: Alerte {i}\r\nMIME-Version: 1.0\r\n"
        "Auto-Submitted: auto-generated\r\nX-Tocsin-Audience: officials\r\n"
        'Content-Type: multipart/alternative; boundary="=_tocsin_alternative"\r\n\r\n'
        "--=_tocsin_alternative\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    middle = (
        b"\r\n--=_tocsin_alternative\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )

    parts = body + middle + html + b"\r\n--=_tocsin_alternative--\r\n"

    async def worker() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        while queue:
            i = queue.pop()
            to = _recipient(i)
            raw = template.format(to=to, i=i).encode() + parts
            await client.sendmail(SENDER, [to], raw)
        await client.quit()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return Result(f"aiosmtplib brut, {connections} connexions", n, time.perf_counter() - start)


def run_apprise(port: int, n: int) -> Result:
    """Plain SMTP to the sandbox, no credentials (it offers no AUTH), one ``Apprise`` object
    per message as ``channels.apprise_adapter`` does: a plugin instance otherwise waits
    ``request_rate_per_sec`` (5.5 s) between two of its sends."""
    import apprise

    url = f"mailto://127.0.0.1:{port}?smtp=127.0.0.1&from={SENDER}&mode=insecure"
    start = time.perf_counter()
    for i in range(n):
        notifier = apprise.Apprise()
        notifier.add(f"{url}&to={_recipient(i)}")
        if not notifier.notify(body=TEXT, title=f"Alerte {i}"):
            raise RuntimeError("Apprise failed to send")
    return Result("Apprise (référence)", n, time.perf_counter() - start)


def bench(*, messages: int, rounds: int, apprise_messages: int) -> dict[str, float]:
    with smtp_server() as server:
        port = int(server.address)
        raw: list[Result] = []
        adapter: list[Result] = []
        for _ in range(rounds):
            for runner, results in ((run_raw, raw), (run_adapter, adapter)):
                server.ask("reset")
                result = asyncio.run(runner(port, messages))
                received = server.ask("count")
                if received != messages:
                    raise RuntimeError(f"{result.name}: server got {received}/{messages}")
                results.append(result)
                print(
                    f"{result.name:32} {result.messages} messages en {result.seconds:.2f} s"
                    f" : {result.rate:.0f} msg/s"
                )
        apprise_rate = 0.0
        if apprise_messages:
            try:
                result = run_apprise(port, apprise_messages)
                apprise_rate = result.rate
                print(
                    f"{result.name:32} {result.messages} messages en {result.seconds:.2f} s"
                    f" : {result.rate:.0f} msg/s"
                )
            except (RuntimeError, ImportError) as exc:
                print(f"Apprise non mesuré : {exc}")
    raw_rate = statistics.mean(r.rate for r in raw)
    adapter_rate = statistics.mean(r.rate for r in adapter)
    ratio = adapter_rate / raw_rate
    print(
        f"moyenne brut {raw_rate:.0f} msg/s, adaptateur {adapter_rate:.0f} msg/s,"
        f" ratio adaptateur/brut {ratio:.2f}"
    )
    return {"raw": raw_rate, "adapter": adapter_rate, "ratio": ratio, "apprise": apprise_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--apprise", type=int, default=0, help="Apprise messages (0: skip)")
    args = parser.parse_args()
    bench(messages=args.messages, rounds=args.rounds, apprise_messages=args.apprise)


if __name__ == "__main__":
    main()
