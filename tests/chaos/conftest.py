from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.cluster import BINARIES, Cluster
from tests.process_support import smtp  # noqa: F401 (a fixture)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not BINARIES:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) absent")
    # Not under pytest's base directory: the postgres user could not reach it (mode 700).
    root = Path(tempfile.mkdtemp(prefix="tocsin-chaos-pg-"))
    try:
        made = Cluster(root)
    except KeyError:
        pytest.skip("run as root without a postgres user to start a cluster as")
    try:
        made.init()
        made.ctl("start")
        yield made
        made.ctl("stop", "-m", "immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)
