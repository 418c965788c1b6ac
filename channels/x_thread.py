"""Splitting a long text into an X thread: numbered parts of at most 280 weighted characters.

The text is cut only where a line may break (space, tab, newline): never inside a word, a
URL or an expression held together by a no-break space (« 18 h », « Attention ! »). A part
ends at the end of a sentence or of a line when one falls in its second half, else at the
last word that fits. Each part ends with its number (`` 1/3``), counted in the 280; a
``head`` (the exercise banner) opens every part, so that a reply seen alone still says it.
A text that fits in one post is returned whole, without number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from channels.limits import X_MAX_WEIGHTED, x_weighted_length

__all__ = ["X_MAX_PARTS", "Unsplittable", "split_thread", "thread_words"]

X_MAX_PARTS = 10
_TOKEN = re.compile(r"([ \t\r\n]*)([^ \t\r\n]+)")
_SENTENCE_END = re.compile(r"[.!?…][»\"')\]]*$")


@dataclass(frozen=True, slots=True)
class Unsplittable:
    """Why no thread fits: ``too_many_parts`` (``parts`` needed) or ``word_too_long``."""

    code: str
    parts: int = 0
    word: str = ""
    budget: int = 0


@dataclass(frozen=True, slots=True)
class _Token:
    gap: str
    word: str
    gap_weight: int
    weight: int
    ends_sentence: bool


def thread_words(text: str) -> list[str]:
    """The words of ``text`` as the splitter sees them (runs between breaking spaces)."""
    return [m.group(2) for m in _TOKEN.finditer(text)]


def split_thread(
    text: str, *, head: str = "", limit: int = X_MAX_WEIGHTED, max_parts: int = X_MAX_PARTS
) -> tuple[str, ...] | Unsplittable:
    """The posts of the thread for ``text``, or why it cannot be one."""
    text, head = text.strip(), head.strip()
    opening = f"{head}\n" if head else ""
    if x_weighted_length(opening + text) <= limit:
        return (opening + text,)
    tokens = _tokens(text)
    digits = 1
    while True:
        reserve = x_weighted_length(f" {'9' * digits}/{'9' * digits}")
        budget = limit - x_weighted_length(opening) - reserve
        chunks = _pack(tokens, budget=budget)
        if isinstance(chunks, Unsplittable):
            return chunks
        if len(chunks) > max_parts:
            return Unsplittable("too_many_parts", parts=len(chunks), budget=budget)
        if len(chunks) < 10**digits:
            break
        digits += 1
    total = len(chunks)
    return tuple(f"{opening}{chunk} {n}/{total}" for n, chunk in enumerate(chunks, start=1))


def _tokens(text: str) -> list[_Token]:
    tokens = []
    matches = list(_TOKEN.finditer(text))
    for index, match in enumerate(matches):
        gap, word = match.group(1), match.group(2)
        following = matches[index + 1].group(1) if index + 1 < len(matches) else ""
        tokens.append(
            _Token(
                gap=gap,
                word=word,
                gap_weight=x_weighted_length(gap),
                weight=x_weighted_length(word),
                ends_sentence=bool(_SENTENCE_END.search(word)) or "\n" in following,
            )
        )
    return tokens


def _pack(tokens: list[_Token], *, budget: int) -> list[str] | Unsplittable:
    """Greedy packing: URLs and emoji never span a breaking space, so weights add up."""
    chunks: list[str] = []
    start = 0
    while start < len(tokens):
        used, end = 0, start
        sentence_end: int | None = None
        while end < len(tokens):
            token = tokens[end]
            cost = token.weight + (token.gap_weight if end > start else 0)
            if used + cost > budget:
                break
            used += cost
            end += 1
            if token.ends_sentence and used * 2 >= budget:
                sentence_end = end
        if end == start:
            return Unsplittable("word_too_long", word=tokens[start].word, budget=budget)
        if end < len(tokens) and sentence_end is not None:
            end = sentence_end
        chunks.append(
            "".join(
                (t.gap if i > start else "") + t.word
                for i, t in enumerate(tokens[start:end], start=start)
            )
        )
        start = end
    return chunks
