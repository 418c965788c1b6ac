"""Package boundaries of ARCHITECTURE.md, checked on the import statements themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = {"fastapi", "starlette", "apscheduler", "uvicorn", "sse_starlette"}
CHANNEL_LIBRARIES = {"aiosmtplib", "telegram", "tweepy", "httpx", "requests", "apprise"}
OURS = {"crisis", "channels", "contacts", "playbooks", "exercises", "storage"}
ALLOWED_OURS = {
    "storage": set(),
    "channels": set(),
    "contacts": {"storage"},
    "playbooks": set(),
    "exercises": {"crisis", "contacts", "playbooks", "storage"},
    "crisis": {"channels", "contacts", "playbooks", "storage"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _domain_files(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    entry_point = ROOT / "crisis" / "__main__.py"
    return [
        f
        for f in files
        if "app" not in f.relative_to(ROOT / package).parts[:1] and f != entry_point
    ]


@pytest.mark.parametrize("package", sorted(ALLOWED_OURS))
def test_domain_packages_import_only_what_the_architecture_allows(package: str) -> None:
    offenders = []
    for path in _domain_files(package):
        if package == "channels" and "sandbox" in path.parts:
            continue
        for name in _imports(path):
            top = name.split(".")[0]
            if top in FRAMEWORKS or name.startswith("crisis.app"):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
            if top in OURS and top != package and top not in ALLOWED_OURS[package]:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
            if package != "channels" and top in CHANNEL_LIBRARIES:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_each_channel_library_appears_in_one_adapter_module_only() -> None:
    seen: dict[str, set[str]] = {}
    for path in sorted((ROOT / "channels").rglob("*.py")):
        if "sandbox" in path.parts:
            continue
        for name in _imports(path):
            top = name.split(".")[0]
            if top in CHANNEL_LIBRARIES - {"httpx", "requests"}:
                seen.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    assert {lib: files for lib, files in seen.items() if len(files) > 1} == {}


WINGS = ("dispatch", "cell", "bulletin", "cip")
# What each wing of `crisis/` may import of the other wings (the shared floor is open to all).
WING_ALLOWED = {
    "dispatch": set(),
    "cell": {"dispatch", "bulletin"},
    "bulletin": {"dispatch", "cell"},
    "cip": {"cell", "bulletin", "dispatch"},  # answers to written requests go by the outbox
}


def _wing_of(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] == "crisis" and len(parts) > 1 and parts[1] in WINGS:
        return parts[1]
    return None


@pytest.mark.parametrize("wing", WINGS)
def test_each_wing_imports_only_the_wings_it_may(wing: str) -> None:
    offenders = []
    for path in sorted((ROOT / "crisis" / wing).rglob("*.py")):
        for name in _imports(path):
            other = _wing_of(name)
            if other is not None and other != wing and other not in WING_ALLOWED[wing]:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_the_dispatch_wing_depends_on_channels_and_the_shared_floor_only() -> None:
    offenders = []
    for path in sorted((ROOT / "crisis" / "dispatch").rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in OURS - {"crisis", "channels", "storage"}:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_no_wing_imports_the_application() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for wing in WINGS
        for path in sorted((ROOT / "crisis" / wing).rglob("*.py"))
        for name in _imports(path)
        if name == "crisis.app" or name.startswith("crisis.app.")
    ]
    assert offenders == []


def test_the_tests_mirror_the_wings() -> None:
    for wing in WINGS:
        assert (ROOT / "tests" / "crisis" / wing / "__init__.py").exists()
        assert list((ROOT / "tests" / "crisis" / wing).glob("test_*.py"))
