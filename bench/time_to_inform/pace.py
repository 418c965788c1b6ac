"""The human-pace model: what each gesture of the scenario costs a person at a desk.

Playwright plays the steps at machine speed; the same steps are also costed with this model,
gesture by gesture, so that the report gives both. The figures are deliberately plain:

- a click (find the control, point, click): 2 s — the keystroke-level model gives 1.35 s of
  mental preparation + 1.1 s of pointing + 0.2 s of button press for a first click; a
  person who knows the page overlaps some of it;
- a drop-down choice (open, find the line, choose): 3 s;
- typing: 4 characters per second (about 48 words per minute, a practised office typist);
- free text written from scratch (the situation in one or two factual sentences): 30 s of
  thinking on top of the typing;
- a page to find one's way on before acting: 10 s;
- text that must be checked (the template the communicator completes, the bulletin and its
  renderings the validator approves): read at 180 words per minute, i.e. careful proofreading
  (silent reading for comprehension averages about 240 words per minute in adults);
- the hand-over between two people ("the bulletin is submitted, can you validate?"): 15 s;
- a phone call to a mayor no channel reaches (dial, ring, a short exchange): 60 s, plus the
  note typed at the same pace.

``SLOW`` multiplies everything by 2: a tired or less practised team.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CLICK_S = 2.0
SELECT_S = 3.0
TYPE_CHARS_PER_S = 4.0
COMPOSE_S = 30.0
GLANCE_S = 10.0
PROOFREAD_WPM = 180.0
HANDOVER_S = 15.0
CALL_S = 60.0
SLOW = 2.0

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> int:
    return len(_WORD.findall(text))


@dataclass
class Gestures:
    """The gestures of one step, costed with the model."""

    clicks: int = 0
    selects: int = 0
    typed_chars: int = 0
    composed: int = 0
    glances: int = 0
    proofread_words: int = 0
    handovers: int = 0
    calls: int = 0

    def seconds(self) -> float:
        return (
            self.clicks * CLICK_S
            + self.selects * SELECT_S
            + self.typed_chars / TYPE_CHARS_PER_S
            + self.composed * COMPOSE_S
            + self.glances * GLANCE_S
            + self.proofread_words * 60.0 / PROOFREAD_WPM
            + self.handovers * HANDOVER_S
            + self.calls * CALL_S
        )

    def describe(self) -> str:
        parts = [
            (self.glances, "page(s) parcourue(s)"),
            (self.proofread_words, "mots relus"),
            (self.clicks, "clic(s)"),
            (self.selects, "liste(s)"),
            (self.typed_chars, "caractères tapés"),
            (self.composed, "texte(s) rédigé(s)"),
            (self.handovers, "passage(s) de relais"),
            (self.calls, "appel(s)"),
        ]
        return ", ".join(f"{n} {label}" for n, label in parts if n)
