"""Fails when the installed environment (from the lock) no longer satisfies pyproject.toml.

Run with the venv's interpreter after `pip install -r requirements.lock` and `pip install
--no-deps -e .`: every requirement of the project (runtime and the extras named on the command
line) must be installed at a version its specifier accepts. A dependency added to pyproject.toml
without `make lock` is caught here, with the command that mends it.
"""

import sys
from importlib import metadata

from packaging.requirements import Requirement


def unmet(extras: list[str]) -> list[str]:
    problems = []
    for line in metadata.requires("tocsin") or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": e}) for e in ["", *extras]):
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement} : absent du verrou")
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement} : le verrou fixe {version}")
    return problems


def main() -> int:
    problems = unmet(sys.argv[1:])
    for problem in problems:
        print(f"requirements.lock: {problem}", file=sys.stderr)
    if problems:
        print("pyproject.toml a changé sans le verrou : lancez `make lock`.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
