"""A throwaway PostgreSQL cluster of a test's own (initdb + pg_ctl on a free port), so that it
can be restarted under the service; the machine's shared PostgreSQL is never touched."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from tests.process_support import free_port

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


class Cluster:
    """A PostgreSQL cluster of the test's own, in ``root``, on ``port``."""

    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.port = free_port()
        self.bin = Path(BINARIES[-1])
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.log = root / "postgres.log"
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root
            pwd.getpwnam("postgres")
            shutil.chown(root, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._root = root

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def ctl(self, action: str, *options: str) -> None:
        opts = f"-p {self.port} -k {self._root} -c listen_addresses=127.0.0.1"
        self._run(
            str(self.bin / "pg_ctl"),
            *(action, "-D", str(self.data), "-l", str(self.log), "-w", "-o", opts, *options),
        )
