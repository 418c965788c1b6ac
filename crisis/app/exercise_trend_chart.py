"""The programme page's trend charts: one small chart per kind of drill, one line per series,
one point per finished run (`exercises.trends`). Drawn as the report's chart is
(`crisis.app.exercise_chart`: matplotlib's object API on its Agg canvas, the same colours),
served as PNG; the page gives a text alternative and the data table beside it."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from crisis.app.exercise_chart import BLUE, ORANGE
from exercises.schedule import PARIS

__all__ = ["png"]

SERIES_COLOURS = (BLUE, ORANGE)


def png(trend: dict[str, Any]) -> bytes | None:
    """The trend as PNG bytes; None when the kind has no finished run yet."""
    points = trend["points"]
    if not points:
        return None
    # matplotlib is imported on first use: it would add ~0.4 s to every start (issue 22).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.0, 2.6), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    labels = [
        datetime.fromisoformat(p["launched_at"]).astimezone(PARIS).strftime("%d/%m/%y")
        for p in points
    ]
    for index, series in enumerate(trend["series"]):
        values = [p["values"].get(series["key"]) for p in points]
        xs = [i for i, v in enumerate(values) if v is not None]
        ys = [v for v in values if v is not None]
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        axes.plot(xs, ys, marker="o", color=colour, label=series["label"], linewidth=1.5)
    axes.set_xticks(range(len(points)), labels, fontsize=7, rotation=30)
    axes.tick_params(axis="y", labelsize=7)
    axes.set_xlim(-0.5, len(points) - 0.5)
    axes.grid(axis="y", linestyle=":", linewidth=0.5)
    axes.legend(fontsize=7, loc="best")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
