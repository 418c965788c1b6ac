"""nginx in front of a served Tocsin, with the rules a prefecture deploys
(deploy/nginx/tocsin-proxy.conf, included as it is): the public pages kept one second, nothing
of a logged-in user kept, a publication shown, a GET and a POST carrying an `Idempotency-Key`
moved off an instance that is gone, and no other POST sent twice."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.load.front import Front, start_nginx
from bench.served import free_port
from tests.browser.conftest import LiveServer
from tests.browser.site import VERSIONS, api, token
from tests.crisis.bulletin_support import BODY

pytestmark = pytest.mark.browser  # the live server of tests/browser/, no browser needed
ALIVE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def front(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    gone = f"http://127.0.0.1:{free_port()}"  # an instance that died: nothing listens there
    served = start_nginx(tmp_path_factory.mktemp("front"), [gone, live_server.url])
    yield served
    served.stop()


class DyingInstance:
    """An instance that dies with each POST it gets: it reads it, then closes the connection
    without an answer (a SIGKILL while a request is served, as seen by nginx). It answers
    GETs, so that nginx takes it for alive."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed: the test is over
                return
            with connection:
                request = connection.recv(65536)
                if request.startswith(b"GET "):
                    connection.sendall(ALIVE)
                else:
                    self.requests.append(request)


@pytest.fixture
def new_front(live_server: LiveServer, tmp_path: Path) -> Iterator[tuple[Front, DyingInstance]]:
    """nginx before an instance dying with the request and the live one, for one test."""
    dying = DyingInstance()
    served = start_nginx(tmp_path, [dying.url, live_server.url])
    yield served, dying
    served.stop()
    dying.listener.close()


def test_a_public_page_is_answered_from_nginx_cache_with_tocsins_security_headers(
    front: Front,
) -> None:
    answers = [httpx.get(f"{front.url}/public/bulletins") for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert "HIT" in [a.headers.get("x-cache-status") for a in answers]
    kept = next(a for a in answers if a.headers.get("x-cache-status") == "HIT")
    assert "frame-ancestors 'none'" in kept.headers["content-security-policy"]
    assert kept.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in kept.headers
    assert kept.text == answers[0].text


def test_no_page_of_a_logged_in_user_is_kept_by_nginx_nor_shown_to_another(
    front: Front, live_server: LiveServer
) -> None:
    with httpx.Client(base_url=front.url) as browser:
        form = browser.get("/connexion")
        found = CSRF.search(form.text)
        assert found is not None
        password = live_server.users["prefet"]
        logged = browser.post(
            "/connexion",
            data={"login": "prefet", "password": password, "csrf_token": found.group(1)},
        )
        assert logged.status_code == 303
        pages = [browser.get("/mon-compte") for _ in range(3)]
    assert [p.status_code for p in pages] == [200] * 3
    assert all("x-cache-status" not in p.headers for p in pages)
    assert "prefet" in pages[-1].text
    httpx.get(f"{front.url}/public/bulletins")  # one answer nginx does keep
    kept = [f.read_bytes() for f in (front.folder / "cache").rglob("*") if f.is_file()]
    keys = [line for body in kept for line in body.split(b"\n") if line.startswith(b"KEY: ")]
    assert keys and all(b"/public/" in key for key in keys), keys
    stranger = httpx.get(f"{front.url}/mon-compte")
    assert stranger.status_code == 303 and stranger.headers["location"].startswith("/connexion")


def test_a_bulletin_published_to_the_public_shows_through_nginx(
    front: Front, live_server: LiveServer
) -> None:
    title = "Crue de la Bresle : routes fermées à Gamaches"
    before = httpx.get(f"{front.url}/public/bulletins")  # the list, now kept by nginx
    assert title not in before.text
    with api(live_server, "prefet") as prefect, api(live_server, "communicant") as writer:
        crisis = prefect.post(
            "/api/v1/crises",
            json={"title": "Crue derrière nginx", "kind": "crue", "mode": "real",
                  "communes": ["80001"]},
        )  # fmt: skip
        crisis.raise_for_status()
        draft = writer.post(
            f"/api/v1/crises/{crisis.json()['id']}/bulletins",
            json={
                "title": title,
                "body": BODY,
                "audiences": ["public"],
                **VERSIONS,
            },
        )
        draft.raise_for_status()
        bulletin = draft.json()["id"]
        submitted = writer.post(f"/api/v1/bulletins/{bulletin}/submit")
        assert submitted.status_code == 200, submitted.text
        prefect.post(f"/api/v1/bulletins/{bulletin}/approve").raise_for_status()
        writer.post(f"/api/v1/bulletins/{bulletin}/publish").raise_for_status()
    deadline = time.monotonic() + 15  # kept 1 s by nginx, 0.5 s by Tocsin: far below
    shown = False
    while not shown and time.monotonic() < deadline:
        shown = title in httpx.get(f"{front.url}/public/bulletins").text
        time.sleep(0.2)
    assert shown


def test_a_get_sent_to_an_instance_that_is_gone_is_answered_by_the_live_one(
    front: Front,
) -> None:
    answers = [httpx.get(f"{front.url}/readyz") for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10


DECLARED = {"title": "Crue derrière nginx", "kind": "crue", "mode": "real", "communes": ["80001"]}


def _declared(front: Front, server: LiveServer, keys: list[str | None]) -> list[httpx.Response]:
    """An event declared through nginx for each key (None: a POST without one), one after
    the other: nginx sends one of the first two to the dying instance."""
    bearer = {"Authorization": f"Bearer {token(server, 'prefet')}"}
    with httpx.Client(base_url=front.url, headers=bearer) as prefect:
        return [
            prefect.post(
                "/api/v1/crises",
                json=DECLARED,
                headers={"Idempotency-Key": key} if key else {},
            )
            for key in keys
        ]


def test_a_post_with_an_idempotency_key_cut_by_a_dying_instance_is_saved_once_by_the_live_one(
    new_front: tuple[Front, DyingInstance], live_server: LiveServer
) -> None:
    front, dying = new_front
    first, second, again = _declared(front, live_server, ["nginx-1", "nginx-2", "nginx-1"])
    assert len(dying.requests) == 1 and dying.requests[0].startswith(b"POST /api/v1/crises")
    assert [first.status_code, second.status_code] == [201, 201], first.text + second.text
    assert again.json()["id"] == first.json()["id"] != second.json()["id"]


def test_a_post_without_a_key_cut_by_a_dying_instance_is_not_sent_again(
    new_front: tuple[Front, DyingInstance], live_server: LiveServer
) -> None:
    front, dying = new_front
    answers = _declared(front, live_server, [None, None])
    assert len(dying.requests) == 1
    assert sorted(a.status_code for a in answers) == [201, 502]
