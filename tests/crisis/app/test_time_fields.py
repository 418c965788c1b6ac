"""Time fields of forms: a page stays open while the crisis goes on (the prefect opens the
FR-Alert checklist, goes to the portal, comes back minutes later), so no field may refuse a time
for being later than the minute the page was rendered. The server, which knows the time, refuses
the future with a reason in French (tests of each form)."""

from __future__ import annotations

import re
from pathlib import Path

import crisis.app

TEMPLATES = Path(crisis.app.__file__).parent / "templates"
TIME_FIELD = re.compile(r'<input[^>]*type="datetime-local"[^>]*>')


def test_no_time_field_bounds_the_future_at_the_minute_its_page_was_rendered() -> None:
    fields = {
        f"{path.relative_to(TEMPLATES)}: {field}"
        for path in TEMPLATES.rglob("*.html")
        for field in TIME_FIELD.findall(path.read_text(encoding="utf-8"))
    }
    assert len(fields) >= 4  # the COD, the cabinet's facts, FR-Alert, the CIP's opening
    assert [field for field in fields if " max=" in field] == []
