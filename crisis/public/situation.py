"""The public bulletins sorted as the public list shows them: what is in force first (an
update standing for what it updates, a cancellation shown as such), then the archive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crisis.public.bulletin import PublicBulletin

FEED_ENTRIES = 50
"""The Atom feed's bound: the last 50 public bulletins."""
ARCHIVED = 100
"""How many past bulletins the public list shows under the current situation."""


@dataclass(frozen=True, slots=True)
class Situation:
    current: tuple[PublicBulletin, ...]
    archive: tuple[PublicBulletin, ...]


def situation(bulletins: Sequence[PublicBulletin]) -> Situation:
    """`bulletins` newest first → in force (newest first), then the rest (newest first)."""
    current = tuple(b for b in bulletins if b.in_force)
    archive = tuple(b for b in bulletins if not b.in_force)[:ARCHIVED]
    return Situation(current, archive)
