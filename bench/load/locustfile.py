"""The locust users of the load benchmark (run by `bench/load/run`, not by hand).

- `Watcher`: a logged-in member of the cabinet, without think time; holds one live-updates
  stream (`/flux`) open and cycles dashboard → crisis page → the crisis' bulletins fragment →
  the tracking page of the bulletin being watched. The first watcher also probes the stream:
  it opens another every `STREAM_PROBE_S`, its first byte timed under the load.
  Its pages go through locust's FastHttpUser (geventhttpclient, one kept connection): the 50
  people have 50 PCs, and python-requests cost the shared two cores some 1–2 ms of CPU per
  page (see docs/benchmarks.md).
- `PublicReader`: a member of the public reading one bulletin's public page.

The driver talks to them through files named by environment variables: LOAD_STATE (JSON: the
crisis, the bulletin to track, `stop`), LOAD_WATCHERS (JSON list of logins and passwords),
LOAD_PUBLIC_PATH (the public page), LOAD_HOSTS (the instances, comma-separated: each watcher
starts on one in turn and moves to the next on a connection error), LOAD_LOG (one CSV line
per request, written here: locust's own statistics cannot be split by phase).
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import gevent
import requests
from locust import FastHttpUser, events, task
from locust.env import Environment

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_HEAD = re.compile(rb'"head": (\d+)')
_STATE = Path(os.environ.get("LOAD_STATE", "state.json"))
_accounts = itertools.count()
_log_file: Any = None
_log: Any = None
_dead: set[str] = set()
STREAM_PROBE_S = 1.0
"""How long the probing watcher keeps a stream before it opens the next."""


def state() -> dict[str, Any]:
    try:
        found: dict[str, Any] = json.loads(_STATE.read_text(encoding="utf-8"))
        return found
    except (OSError, ValueError):
        return {}


@events.init.add_listener
def _open_log(environment: Environment, **_: Any) -> None:
    global _log_file, _log
    _log_file = Path(os.environ.get("LOAD_LOG", "requests.csv")).open(  # noqa: SIM115
        "a", newline="", encoding="utf-8"
    )
    _log = csv.writer(_log_file)
    _log.writerow(["start", "name", "ms", "ok", "why"])


@events.request.add_listener
def _record(
    name: str,
    response_time: float,
    exception: BaseException | None,
    start_time: float | None = None,
    **_: Any,
) -> None:
    begun = start_time if start_time is not None else time.time() - response_time / 1000
    why = " ".join(str(exception).split())[:200] if exception else ""
    _log.writerow([f"{begun:.3f}", name, f"{response_time:.1f}", "0" if exception else "1", why])


@events.test_start.add_listener
def _watch_for_stop(environment: Environment, **_: Any) -> None:
    def watch() -> None:
        while not state().get("stop"):
            gevent.sleep(0.5)
        if environment.runner is not None:
            environment.runner.quit()

    gevent.spawn(watch)


@events.quitting.add_listener
def _close_log(**_: Any) -> None:
    if _log_file is not None:
        _log_file.flush()
        _log_file.close()


def _fire(
    environment: Environment, name: str, started: float, ms: float, error: str | None
) -> None:
    environment.events.request.fire(
        request_type="GET",
        name=name,
        response_time=ms,
        response_length=0,
        exception=RuntimeError(error) if error else None,
        context={},
        start_time=started,
    )


def _why(status: int, body: str | None, error: object) -> str:
    """What a failed page got: its status and the start of its body, or the client's error."""
    if status:
        return f"HTTP {status} : {' '.join((body or '').split())[:120]}"
    return f"pas de réponse : {error!r}"


def _refused(error: requests.RequestException) -> bool:
    """Connection refused or reset: the instance is gone (a timeout is not that)."""
    return isinstance(error, requests.ConnectionError) and not isinstance(error, requests.Timeout)


class Watcher(FastHttpUser):
    """One of the users watching the crisis while a bulletin goes out."""

    weight = 1
    concurrency = 1  # its pages one after the other, on one kept connection

    def on_start(self) -> None:
        accounts = json.loads(Path(os.environ["LOAD_WATCHERS"]).read_text(encoding="utf-8"))
        number = next(_accounts)
        account = accounts[number % len(accounts)]
        self._hosts = [h for h in os.environ.get("LOAD_HOSTS", "").split(",") if h] or [
            str(self.host)
        ]
        self._turn = number
        self._announced = 0  # the journal entry the stream's last message named
        self.client.base_url = self._hosts[number % len(self._hosts)]
        for _ in range(3):  # a refused login is an error in the log, then tried again
            if self._log_in(account):
                break
            gevent.sleep(1)
        else:
            raise RuntimeError(f"connexion impossible pour {account['login']}")
        self._stream = gevent.spawn(self._hold_stream, STREAM_PROBE_S if number == 0 else None)

    def _log_in(self, account: dict[str, str]) -> bool:
        page = self.client.get("/connexion", name="login")
        found = _CSRF.search(page.text or "")
        if found is None:
            return False
        with self.client.post(
            "/connexion",
            data={
                "login": account["login"],
                "password": account["password"],
                "csrf_token": found.group(1),
            },
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 303:
                answer.failure(f"HTTP {answer.status_code}")
                return False
            answer.success()
            return True

    def on_stop(self) -> None:
        self._stream.kill(block=False)

    def _hold_stream(self, probe_s: float | None) -> None:
        """The page's EventSource: one stream, reopened when it ends (or after `probe_s`);
        each one's first byte is timed."""
        while True:
            url = f"{self.client.base_url}/flux"
            started, t0 = time.time(), time.perf_counter()
            opened = False
            try:
                cookies = {cookie.name: cookie.value or "" for cookie in self.client.cookiejar}
                with requests.get(url, cookies=cookies, stream=True, timeout=(60, 120)) as answer:
                    chunks = answer.iter_content(chunk_size=None)
                    next(chunks, b"")
                    ms = (time.perf_counter() - t0) * 1000
                    bad = None if answer.status_code == 200 else f"HTTP {answer.status_code}"
                    _fire(self.environment, "flux_first_byte", started, ms, bad)
                    opened = True
                    with gevent.Timeout(probe_s, False):  # None: as long as it lasts
                        for chunk in chunks:
                            for head in _HEAD.findall(chunk):
                                self._announced = max(self._announced, int(head))
            except requests.RequestException as error:
                ms = (time.perf_counter() - t0) * 1000
                if opened:  # its instance killed: EventSource reconnects (a second later here)
                    _fire(self.environment, "flux_cut", time.time(), 0.0, str(error))
                    gevent.sleep(1)
                elif _refused(error) and len(self._hosts) > 1:  # a balancer tries the next
                    _fire(self.environment, "failover", started, ms, str(error))
                    self._move()
                else:
                    _fire(self.environment, "flux_first_byte", started, ms, str(error))
                    gevent.sleep(1)

    def _page(self, path: str, name: str, *, live: bool = False) -> None:
        """One page. A GET cut by a dead instance (connection refused or reset) is sent again
        on a live one, as a load balancer does for an idempotent request (nginx's
        `proxy_next_upstream error`): the cut attempt is logged as `failover`, and the page's
        time runs from the first attempt. A timeout is not retried. ``live``: a live region's
        refresh, as tocsin.js asks it (not older than the entry the stream last named)."""
        started, t0 = time.time(), time.perf_counter()
        headers = {"X-Tocsin-Live": "1"} if live else {}
        if live and self._announced:
            headers["X-Tocsin-Announced"] = str(self._announced)
        for attempt in (1, 2):
            with self.client.get(
                path, name=name, headers=headers, allow_redirects=False, catch_response=True
            ) as answer:
                error = getattr(answer, "error", None)
                refused = isinstance(error, OSError) and not isinstance(error, TimeoutError)
                if answer.status_code == 0 and refused:
                    self._move()
                    if attempt == 1 and len(self._hosts) > 1:
                        answer.request_meta["name"] = "failover"
                        answer.failure(f"{name} : {error}")
                        continue
                if attempt == 2:
                    answer.request_meta["start_time"] = started
                    answer.request_meta["response_time"] = (time.perf_counter() - t0) * 1000
                if answer.status_code != 200:
                    answer.failure(_why(answer.status_code, answer.text, error))
            return

    def _move(self) -> None:
        """A connection refused or reset: that instance is dead for every watcher; the next
        live one, as a load balancer would (a timeout moves nobody)."""
        _dead.add(str(self.client.base_url))
        alive = [h for h in self._hosts if h not in _dead] or self._hosts
        self._turn += 1
        self.client.base_url = alive[self._turn % len(alive)]

    @task
    def cycle(self) -> None:
        now = state()
        crisis, bulletin = now["crisis"], now["bulletin"]
        self._page("/", "dashboard")
        self._page(f"/evenements/{crisis}", "crisis")
        self._page(f"/fragments/evenements/{crisis}/communiques", "bulletins_fragment", live=True)
        self._page(f"/communiques/{bulletin}/suivi", "tracking")


class PublicReader(FastHttpUser):
    """Someone of the public opening the bulletin's public page, again and again."""

    weight = 1

    @task
    def read(self) -> None:
        path = os.environ["LOAD_PUBLIC_PATH"]
        with self.client.get(path, name="public_bulletin", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}")
