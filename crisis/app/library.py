"""The playbook library, loaded and checked once per process (it takes seconds)."""

from __future__ import annotations

import functools
import logging

from playbooks import Playbook, PlaybookLibraryError, load_library

log = logging.getLogger("tocsin.playbooks")


@functools.cache
def playbook_library() -> dict[str, Playbook]:
    """The checked library; empty (and logged) when it does not pass its checks."""
    try:
        return load_library()
    except PlaybookLibraryError:
        log.exception("playbook library refused: crises are declared without a checklist")
        return {}
