"""What the load benchmark reports: per page and per phase p50/p95/p99 from the request log the
locust users write, the fan-out's loaded/unloaded ratio, the clock alerts' lateness, the public
page's throughput; as JSON and as the Markdown table of issue 16."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAGES = ("dashboard", "crisis", "bulletins_fragment", "tracking")
PAGE_LABELS = {
    "dashboard": "tableau de bord",
    "crisis": "page de l'événement",
    "bulletins_fragment": "fragment des communiqués",
    "tracking": "page de suivi",
    "flux_first_byte": "flux (premier octet)",
    "public_bulletin": "page publique",
    "public_list": "liste",
    "public_feed": "flux Atom",
}
LOG_HEADER = ["start", "name", "ms", "ok", "why"]


@dataclass(frozen=True)
class Sample:
    start: float
    """Epoch seconds the request started."""
    name: str
    ms: float
    ok: bool
    why: str = ""
    """A failed request's status and body start, or the client's error."""


def read_log(path: Path) -> list[Sample]:
    """The request log a locust run wrote (one CSV line per request); absent file: none."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as source:
        return [
            Sample(
                float(row["start"]),
                row["name"],
                float(row["ms"]),
                row["ok"] == "1",
                row.get("why") or "",
            )
            for row in csv.DictReader(source)
        ]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of the values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


KILL_EVENTS = ("failover", "flux_cut")
"""What the kill does that a user behind a load balancer does not see as an error: a GET cut
on the dead instance and sent again on a live one (`failover`; the page's own sample times
both attempts), a live stream cut and reopened as the browser's EventSource does
(`flux_cut`). Counted apart, in the kill's row."""


def summarise(samples: Iterable[Sample], *, start: float, end: float) -> dict[str, Any]:
    """Per request name, the requests that started in [start, end): count, errors, p50/p95/p99
    and max (ms), requests per second."""
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        if start <= sample.start < end:
            by_name.setdefault(sample.name, []).append(sample)
    seconds = max(end - start, 1e-9)
    result: dict[str, Any] = {}
    for name, found in sorted(by_name.items()):
        times = [s.ms for s in found]
        result[name] = {
            "count": len(found),
            "errors": sum(1 for s in found if not s.ok),
            "p50_ms": percentile(times, 50),
            "p95_ms": percentile(times, 95),
            "p99_ms": percentile(times, 99),
            "max_ms": max(times),
            "per_s": len(found) / seconds,
        }
    return result


def alert_lateness(alerts: Iterable[dict[str, Any]], *, start: float, end: float) -> dict[str, Any]:
    """The alerts due in [start, end) (epoch seconds): how late each was sent (sent_at − due_at),
    p50/p99/max in seconds, and how many were not sent at all."""
    due = [a for a in alerts if start <= a["due"] < end]
    late = [a["sent"] - a["due"] for a in due if a["sent"] is not None]
    return {
        "due": len(due),
        "unsent": sum(1 for a in due if a["sent"] is None),
        "p50_s": percentile(late, 50),
        "p99_s": percentile(late, 99),
        "max_s": max(late) if late else None,
    }


def _n(value: float, digits: int = 2) -> str:
    """A number as French writes it: decimal comma, thin grouping of thousands."""
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def _s(ms: float | None) -> str:
    return "–" if ms is None else _n(ms / 1000)


def _pages(phase: dict[str, Any]) -> str:
    parts = []
    for page in PAGES:
        row = phase.get(page)
        if row:
            parts.append(
                f"{PAGE_LABELS[page]} {_s(row['p50_ms'])} / {_s(row['p95_ms'])} / "
                f"{_s(row['p99_ms'])} s"
            )
    return ", ".join(parts) or "–"


def _errors(*phases: dict[str, Any]) -> str:
    rows = [row for phase in phases for name, row in phase.items() if name not in KILL_EVENTS]
    count = sum(row["count"] for row in rows)
    errors = sum(row["errors"] for row in rows)
    return f"{errors} sur {count} requêtes"


def _fanout(result: dict[str, Any]) -> str:
    alone, loaded = result["fanout_unloaded"], result["fanout_loaded"]
    text = f"{_n(alone['deliveries'], 0)} envois : {_n(alone['seconds'], 1)} s → "
    if loaded["settled"]:
        text += f"{_n(loaded['seconds'], 1)} s"
    else:
        text += (
            f"inachevée après {_n(loaded['seconds'], 0)} s ({_n(loaded['settled_count'], 0)} "
            f"réglés, {_n(loaded['per_s'], 1)} envois/s)"
        )
    ratio = result.get("fanout_ratio")
    return text + (f" (**{_n(ratio)}**)" if ratio is not None else "")


def _alerts(alerts: dict[str, Any]) -> str:
    if not alerts["due"]:
        return "aucune alerte due pendant la charge"
    text = (
        f"{alerts['due']} dues, retard p50 {_n(alerts['p50_s'])} s, "
        f"p99 {_n(alerts['p99_s'])} s, max {_n(alerts['max_s'])} s"
        if alerts["p99_s"] is not None
        else f"{alerts['due']} dues"
    )
    return text + (f", {alerts['unsent']} non envoyées" if alerts["unsent"] else "")


def _public(public: dict[str, Any]) -> str:
    row = public.get("public_bulletin")
    if not row:
        return "–"
    return (
        f"{_n(row['per_s'], 0)} req/s, p50 {_s(row['p50_ms'])} s, p99 {_s(row['p99_ms'])} s, "
        f"{row['errors']} erreurs"
    )


def _publish(result: dict[str, Any]) -> str:
    return f"{_n(result['publish_idle_s'])} → {_n(result['publish_loaded_s'])} s"


def _flux(result: dict[str, Any]) -> str:
    row = result["flux"].get("flux_first_byte")
    if not row:
        return "–"
    during = f"{row['count']} ouvertures pendant la diffusion"
    return f"p50 {_s(row['p50_ms'])} s, p95 {_s(row['p95_ms'])} s ({during})"


def _cores(result: dict[str, Any]) -> str:
    cores = result.get("cores_fanout")
    if not cores:
        return "–"
    shown = " / ".join(_n(cores[name]) for name in ("tocsin", "locust", "postgres"))
    return shown + (f" ; nginx {_n(cores['nginx'])}" if "nginx" in cores else "")


ROWS: tuple[tuple[str, Any], ...] = (
    ("pages, {users} utilisateurs, au calme (p50 / p95 / p99)", lambda r: _pages(r["pages_idle"])),
    (
        "pages, {users} utilisateurs, pendant la diffusion",
        lambda r: _pages(r["pages_fanout"]),
    ),
    ("erreurs (pages et flux)", lambda r: _errors(r["pages_idle"], r["pages_fanout"])),
    (
        "erreurs des connexions (`/connexion`, formulaire et envoi)",
        lambda r: _errors(r.get("logins", {})),
    ),
    ("diffusion seule → sous la charge (rapport)", _fanout),
    ("appel de publication (API), au calme → sous la charge", _publish),
    ("alertes d'horloge sous la charge (envoi − échéance)", lambda r: _alerts(r["alerts"])),
    ("flux `/flux`, premier octet", _flux),
    ("cœurs occupés pendant la diffusion (Tocsin / locust / PostgreSQL)", _cores),
    (
        "`/public/bulletins/{{public_id}}`, {public_clients} clients",
        lambda r: "voir « pages publiques »" if r.get("everything") else _public(r["public"]),
    ),
    (
        "charge de la machine (1 min, avant → après)",
        lambda r: f"{_n(r['load_before'][0], 1)} → {_n(r['load_after'][0], 1)}",
    ),
)


def everything(
    results: dict[str, Any],
    watched: Sequence[Sample],
    cip: Sequence[Sample],
    windows: dict[str, tuple[float, float]],
) -> dict[str, Any]:
    """What `--everything` adds: the CIP's saves per phase, the drill's launch, the public
    flood against the raw limit, and around the kill the errors clients saw."""
    out = dict(results)
    out["cip"] = results["cip"] | {
        phase: summarise(cip, start=start, end=end) for phase, (start, end) in windows.items()
    }
    out["cip"]["saved"] = sum(1 for s in cip if s.ok)
    public, raw = results.get("public"), results.get("raw_limit")
    if public and raw and raw["rate"]:
        out["public_ratio"] = public["per_s"] / raw["rate"]
    kill = results.get("kill")
    if kill:
        at = kill["killed_at"]
        near = [s for s in (*watched, *cip) if at - 5 <= s.start < at + 15]
        failed = [s for s in near if not s.ok and s.name not in KILL_EVENTS]
        out["kill"] = kill | {
            "absorbed": _count(s.name for s in near if s.name in KILL_EVENTS),
            "client_errors": len(failed),
            "client_errors_by_name": _count(s.name for s in failed),
            "client_errors_why": _count(f"{s.name} : {s.why}" for s in failed),
            "errors_from_s": min((s.start - at for s in failed), default=None),
            "errors_to_s": max((s.start - at for s in failed), default=None),
        }
    return out


def _count(names: Iterable[str]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for name in names:
        counted[name] = counted.get(name, 0) + 1
    return counted


def _cip(extra: dict[str, Any]) -> str:
    cip = extra["cip"]
    parts = []
    for phase, label in (("idle", "au calme"), ("fanout", "pendant la diffusion")):
        for name in ("cip_call", "cip_burst"):
            row = cip.get(phase, {}).get(name)
            if row:
                kind = "rafale" if name == "cip_burst" else "appels"
                parts.append(
                    f"{kind} {label} : {row['count']}, p50 / p95 / p99 {_s(row['p50_ms'])} / "
                    f"{_s(row['p95_ms'])} / {_s(row['p99_ms'])} s, {row['errors']} erreurs"
                )
    head = (
        f"{cip['operators']} opérateurs, {cip['logged']} appels enregistrés pour {cip['saved']} "
        "sauvegardes réussies"
    )
    return (
        head
        + (f" ({cip['retried']} reprises)" if cip["retried"] else "")
        + " ; "
        + "; ".join(parts)
    )


def _flood(extra: dict[str, Any]) -> str:
    public, raw = extra.get("public"), extra.get("raw_limit")
    if not public or not raw:
        return "–"
    pages = ", ".join(
        f"{PAGE_LABELS.get(name, name)} {_n(row['rate'], 0)} req/s p50 / p95 / p99 "
        f"{_s(row['p50_ms'])} / {_s(row['p95_ms'])} / {_s(row['p99_ms'])} s"
        for name, row in public["pages"].items()
    )
    ratio = extra.get("public_ratio")
    return (
        f"**{_n(public['per_s'], 0)} req/s** en tout ({pages}) ; {_n(public['errors'], 0)} "
        f"erreurs ; `/healthz` seul au même moment {_n(raw['rate'], 0)} req/s"
        + (f" (rapport {_n(ratio)})" if ratio is not None else "")
    )


def _kill(extra: dict[str, Any]) -> str:
    kill = extra.get("kill")
    if not kill:
        return "– (une seule instance)"
    back, led = kill["claims_back_s"], kill["leader_s"]
    first, last = kill["errors_from_s"], kill["errors_to_s"]
    return (
        f"SIGKILL après {_n(kill['settled_before'], 0)} envois réglés "
        f"({'meneuse' if kill['was_leader'] else 'non meneuse'}) ; envois repris en "
        f"{'–' if back is None else _n(back, 1)} s, meneuse vivante après "
        f"{'–' if led is None else _n(led, 1)} s ; "
        + (
            f"la survivante envoie ensuite {_n(kill['survivor_per_s'], 1)} envois/s "
            f"(**{_n(kill['survivor_ratio'])}** du débit de la diffusion sans charge, "
            "bac à sable partagé) ; "
            if "survivor_ratio" in kill
            else ""
        )
        + (f"alerte due 3 s après : {_alerts(kill['alert'])} ; " if kill.get("alert") else "")
        + f"absorbé par les clients {kill.get('absorbed', {})} ; "
        + f"{kill['client_errors']} erreurs vues des "
        f"clients de 5 s avant à 15 s après {kill['client_errors_by_name']}"
        + (f" ({kill['client_errors_why']})" if kill.get("client_errors_why") else "")
        + (
            ""
            if first is None or last is None
            else f", requêtes parties de {_n(first, 1)} à {_n(last, 1)} s du SIGKILL"
        )
    )


EVERYTHING_ROWS: tuple[tuple[str, Any], ...] = (
    (
        "exercice (lancement par l'API, pendant la charge)",
        lambda e: (
            f"lancé en {_n(e['drill']['launch_s'])} s (événement n° {e['drill']['crisis_id']})"
        ),
    ),
    ("CIP : enregistrer un appel (API)", _cip),
    ("pages publiques (hey, débit visé constant)", _flood),
    ("instance tuée", _kill),
)


def markdown(results: Sequence[dict[str, Any]]) -> str:
    """The issue's table, one column per database run."""
    if not results:
        return ""
    head = results[0]["parameters"]
    columns = [r["database"] for r in results]
    lines = [
        "| | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for label, cell in ROWS:
        title = label.format(users=head["users"], public_clients=head["public_clients"])
        lines.append(f"| {title} | " + " | ".join(cell(r) for r in results) + " |")
    if all(r.get("everything") for r in results):
        for label, cell in EVERYTHING_ROWS:
            row = " | ".join(cell(r["everything"]) for r in results)
            lines.append(f"| {label} | {row} |")
    return "\n".join(lines) + "\n"
