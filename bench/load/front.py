"""nginx in front of the instances (`--front nginx`), with the rules a prefecture deploys:
deploy/nginx/tocsin-proxy.conf, included as it is. Only the surroundings are the bench's own:
the instances as the upstream, a free loopback port, folders in the run's work directory."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.served import free_port

RULES = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "tocsin-proxy.conf"

MAIN = """{user}worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream tocsin {{
{servers}
        keepalive 64;
        keepalive_timeout 4s;
    }}
    proxy_cache_path {dir}/cache levels=1:2 keys_zone=tocsin_public:10m
                     max_size=200m inactive=10m use_temp_path=off;
    server {{
        listen 127.0.0.1:{port};
        include {rules};
    }}
}}
"""


@dataclass
class Front:
    url: str
    process: subprocess.Popen[bytes]
    folder: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def config(folder: Path, upstreams: list[str], port: int) -> str:
    servers = "\n".join(
        f"        server {url.removeprefix('http://')} max_fails=1 fail_timeout=5s;"
        for url in upstreams
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # its folders are root's alone
    return MAIN.format(user=user, dir=folder, servers=servers, port=port, rules=RULES)


def start_nginx(workdir: Path, upstreams: list[str]) -> Front:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise RuntimeError("nginx absent : apt-get install -y nginx")
    folder = workdir / "nginx"
    folder.mkdir()
    port = free_port()
    (folder / "nginx.conf").write_text(config(folder, upstreams, port), encoding="utf-8")
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = (folder / "error.log").read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"nginx arrêté au démarrage : {error[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return Front(url, process, folder)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("nginx ne répond pas sur /healthz")
