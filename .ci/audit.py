"""pip-audit on the hashed locks: a known vulnerability fails, unless .pip-audit-ignore accepts it.

.pip-audit-ignore holds one advisory a line, `ID  # why it is accepted` (the reason is
mandatory). pip-audit asks PyPI's per-release JSON API (/pypi/NAME/VERSION/json) for advisories;
where that API does not answer, pip-audit skips the package instead of failing. The skipped
packages are listed here and, with AUDIT_STRICT=1, fail the run too.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ["requirements.lock", "requirements-bench.lock"]


def accepted() -> dict[str, str]:
    """The accepted advisories, each with its reason; a line without a reason is refused."""
    ignores: dict[str, str] = {}
    path = ROOT / ".pip-audit-ignore"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"(\S+)\s+#\s*(\S.*)", line.strip())
        if match is None:
            sys.exit(f"{path.name}:{number}: « ID  # raison » attendu, la raison est obligatoire")
        ignores[match[1]] = match[2]
    return ignores


def main() -> int:
    ignores = accepted()
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--require-hashes",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]
    for lock in LOCKS:
        command += ["-r", str(ROOT / lock)]
    for advisory in ignores:
        command += ["--ignore-vuln", advisory]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)  # noqa: S603
    if not run.stdout.strip():
        print(run.stderr, file=sys.stderr)
        return 1
    dependencies = json.loads(run.stdout)["dependencies"]
    found = [(d, v) for d in dependencies for v in d.get("vulns", [])]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dependency, vuln in found:
        fixes = ", ".join(vuln.get("fix_versions", [])) or "aucune"
        print(
            f"VULNÉRABLE {dependency['name']} {dependency['version']} : {vuln['id']} "
            f"({', '.join(vuln.get('aliases', []))}) corrigé en : {fixes}"
        )
    for advisory, reason in ignores.items():
        print(f"accepté {advisory} : {reason}")
    audited = len(dependencies) - len(skipped)
    print(
        f"pip-audit : {audited} paquets audités, {len(found)} vulnérabilité(s), "
        f"{len(ignores)} acceptée(s), {len(skipped)} non audité(s)"
    )
    if skipped:
        names = " ".join(sorted(d["name"] for d in skipped))
        print(f"non audités (base d'avis injoignable ?) : {names}", file=sys.stderr)
    if found or (skipped and os.environ.get("AUDIT_STRICT") == "1"):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
