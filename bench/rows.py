"""Rows the benchmarks seed straight into the tables (bypassing the directory's services)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def official(*, key: str, last_name: str, first_name: str, now: datetime) -> dict[str, Any]:
    """A mayor of Abbeville (80001), as a `contact` row."""
    return {
        "key": key,
        "kind": "person",
        "audience": "officials",
        "function": "maire",
        "last_name": last_name,
        "first_name": first_name,
        "organisation": "",
        "search_name": "",
        "area_level": "commune",
        "area_code": "80001",
        "departement": "80",
        "source": "manual",
        "fingerprint": "",
        "active": True,
        "erased": False,
        "updated_at": now,
    }
