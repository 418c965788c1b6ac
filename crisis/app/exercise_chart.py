"""The timeline chart of a drill's report: one bar per clock (start to deadline, then the time
it was met), and markers for each audience's first bulletin delivered and each page answered.
Drawn by matplotlib's object API on its Agg canvas (no pyplot, no display, no global state:
safe in worker threads), as a PNG for the page and the PDF."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

__all__ = ["drawable", "png"]

BLUE = "#000091"
GREEN = "#18753c"
ORANGE = "#b34000"
RED = "#ce0500"
STATUS_COLOURS = {"met": GREEN, "late": ORANGE, "overdue": RED}


def _minutes(start: datetime, value: str | None) -> float | None:
    if value is None:
        return None
    return (datetime.fromisoformat(value) - start).total_seconds() / 60


def _rows(report: dict[str, Any], start: datetime) -> list[tuple[str, float, float, str]]:
    """(label, from, to, colour) in minutes after the launch."""
    rows = []
    for clock in report["clocks"]:
        begin = _minutes(start, clock["started_at"])
        if begin is None:
            continue
        ends = (_minutes(start, clock["met_at"]), _minutes(start, clock["deadline"]), begin)
        end = next(v for v in ends if v is not None)
        colour = STATUS_COLOURS.get(clock["status"], BLUE)
        rows.append((f"{clock['code']} ({clock['status_label']})", begin, end, colour))
    for line in report["audiences"]:
        first = _minutes(start, line["first_delivered_at"])
        if first is not None:
            rows.append((f"1er communiqué — {line['audience_label']}", first, first, BLUE))
    for role in report["by_role"]:
        if role["max_seconds"] is not None:
            rows.append(
                (f"Réponse {role['duty_role_label']} (max.)", 0, role["max_seconds"] / 60, BLUE)
            )
    return rows


def drawable(report: dict[str, Any]) -> bool:
    """Whether `png` has something to draw (cheap: no drawing)."""
    launched = report["run"]["launched_at"]
    return launched is not None and bool(_rows(report, datetime.fromisoformat(launched)))


def png(report: dict[str, Any]) -> bytes | None:
    """The chart as PNG bytes; None when the run has nothing to draw (not launched, no clock)."""
    launched = report["run"]["launched_at"]
    if launched is None:
        return None
    rows = _rows(report, datetime.fromisoformat(launched))
    if not rows:
        return None
    # matplotlib is imported on first use: it would add ~0.4 s to every start (issue 22).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 0.45 * len(rows) + 1.2), dpi=150)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    for index, (_, begin, end, colour) in enumerate(rows):
        if end > begin:
            axes.barh(index, end - begin, left=begin, color=colour, height=0.5)
        else:
            axes.plot([begin], [index], marker="D", color=colour, markersize=7)
    axes.set_yticks(range(len(rows)), [label for label, *_ in rows], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("minutes après le lancement", fontsize=8)
    axes.tick_params(axis="x", labelsize=8)
    axes.grid(axis="x", linestyle=":", linewidth=0.5)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
