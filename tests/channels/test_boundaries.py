"""channels/ imports nothing of ours, and each library only in its own adapter."""

from __future__ import annotations

import ast
from pathlib import Path

CHANNELS = Path(__file__).resolve().parents[2] / "channels"
OURS = {"crisis", "contacts", "playbooks", "exercises"}
LIBRARY_HOMES = {
    "aiosmtplib": {"email.py"},
    "telegram": {"telegram.py"},
    "tweepy": {"x.py"},
    "requests": {"x.py"},
    "apprise": {"apprise_adapter.py"},
    "httpx": {"_http.py", "mastodon.py", "matrix.py", "sms.py", "webhook.py"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_channels_imports_nothing_of_ours() -> None:
    for path in CHANNELS.rglob("*.py"):
        assert not (_imports(path) & OURS), path


def test_each_library_appears_only_in_its_adapter_module() -> None:
    for path in CHANNELS.glob("*.py"):  # the sandbox may use what it likes
        for library, homes in LIBRARY_HOMES.items():
            if library in _imports(path):
                assert path.name in homes, f"{library} imported by {path.name}"
