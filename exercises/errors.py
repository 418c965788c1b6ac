"""The drills' refusals, as the crisis wings raise theirs (422 bad input, 409 conflict)."""

from __future__ import annotations

from crisis.errors import Conflict, InvalidInput

__all__ = ["DrillConflict", "DrillRefused"]


class DrillRefused(InvalidInput):
    """Bad input on a drill: 422, nothing written."""


class DrillConflict(Conflict):
    """A drill in a state that refuses the action (already running, already ended): 409."""
