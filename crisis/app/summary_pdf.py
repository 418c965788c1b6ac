"""The closing summary as a PDF: A4, page numbers, a header naming the prefecture and the
generation time, the same French text as the page (`crisis.app.summary_view`).

fpdf2 draws it with DejaVu Sans, a Unicode TrueType font shipped in `crisis/app/fonts` with its
licence, so accents, « guillemets », dashes and the narrow no-break space (U+202F) of French
typography print as they are. A character the font lacks is replaced by a visible U+FFFD and
counted in a warning (the count only, never the text), never dropped silently. Tables are
drawn row by row with a linear word wrap (fpdf2's table API and line breaking are too slow
for a 5,000-entry journal or a department's 772 communes) and a row taller than the rest of
the page continues on the next one, under a repeated header row.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from crisis.app.summary_view import EXERCISE_BANNER, SummaryView

log = logging.getLogger("tocsin.summary")

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVuSans"
SIZE = 8.5
LINE = 4.2
WIDTH = 180.0  # A4 less two 15 mm margins
BLUE = (0, 0, 145)
RED = (206, 5, 0)
YELLOW = (255, 229, 82)
GREY = (240, 240, 240)
HEADER_BOTTOM = 28.0  # under the bloc-marque
TOP_MARGIN = 32.0

# French spacing: a narrow no-break space before ; ! ? » and after «, a no-break space
# before : and between a number and its unit (« 15 h 05 », « 30 min »); « à 15 h 05 » stays
# on one line when a date wraps.
_NARROW = re.compile(r" ([;!?»])|(«) ")
_COLON = re.compile(r" :")
_UNIT = re.compile(r"(\d) (h|min|ko)\b")
_HOUR = re.compile(r"\bh (\d\d)\b")
_AT = re.compile(r" à (\d)")


def french_spacing(text: str) -> str:
    text = _NARROW.sub(lambda m: f"\u202f{m[1]}" if m[1] else f"{m[2]}\u202f", text)
    text = _COLON.sub("\u00a0:", text)
    text = _UNIT.sub("\\1\u00a0\\2", text)
    text = _AT.sub(" à\u00a0\\1", text)
    return _HOUR.sub("h\u00a0\\1", text)


class Document(FPDF):
    """Tocsin's A4 document: the bloc-marque, two lines top right (`stamp`), « EXERCICE » on
    every page of an exercise, page numbers; tables drawn by `row` and `grid`."""

    def __init__(self, *, stamp: tuple[str, str], exercise: bool) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.stamp = stamp
        self.exercise = exercise
        self.replaced = 0
        self.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(15, TOP_MARGIN, 15)
        self.set_auto_page_break(True, margin=16)
        self.set_lang("fr")
        font = self.fonts[FAMILY.lower()]
        assert isinstance(font, TTFFont)
        self.cmap: dict[int, str] = font.cmap

    def text_of(self, text: str) -> str:
        """The text as printed: French spacing, and U+FFFD where the font has no glyph."""
        text = french_spacing(text)
        missing = {c for c in set(text) if ord(c) not in self.cmap and c not in "\n\t"}
        if not missing:
            return text
        self.replaced += sum(text.count(c) for c in missing)
        return "".join("\ufffd" if c in missing else c for c in text)

    def put(self, width: float, text: str, *, size: float = SIZE, bold: bool = False) -> None:
        """A paragraph across `width`, wrapped."""
        self.set_font(FAMILY, "B" if bold else "", size)
        self.multi_cell(width, size * 0.5, self.text_of(text), align="L")

    def header(self) -> None:
        self._bloc_marque()
        self.set_font(FAMILY, "", 8)
        self.set_xy(105, 9)
        self.cell(90, 5, self.text_of(self.stamp[0]), align="R")
        self.set_xy(105, 14)
        self.cell(90, 5, self.text_of(self.stamp[1]), align="R")
        if self.exercise:
            self.set_xy(105, 19)
            self.set_font(FAMILY, "B", 9)
            self.set_text_color(*RED)
            self.cell(90, 5, "EXERCICE", align="R")
            self.set_text_color(0)
        self.set_draw_color(*BLUE)
        self.line(15, HEADER_BOTTOM, 195, HEADER_BOTTOM)
        self.set_draw_color(0)
        self.set_y(TOP_MARGIN)

    def _bloc_marque(self) -> None:
        """The State's bloc-marque in the DSFR manner, as text (no Marianne file): the
        institution in bold capitals on two lines, the motto on three lines below it."""
        self.set_text_color(0)
        self.set_font(FAMILY, "B", 10)
        for y, line in ((8, "PRÉFET"), (12.5, "DE LA SOMME")):
            self.set_xy(15, y)
            self.cell(60, 4.5, line)
        self.set_font(FAMILY, "", 6.5)
        for y, line in ((18, "Liberté"), (21, "Égalité"), (24, "Fraternité")):
            self.set_xy(15, y)
            self.cell(60, 3, line)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.cell(0, 5, f"Page {self.page_no()} sur {{nb}}", align="C")

    def heading(self, text: str) -> None:
        if self.will_page_break(8 + 3 * LINE):
            self.add_page()
        self.ln(3)
        self.set_font(FAMILY, "B", 12)
        self.set_text_color(*BLUE)
        self.cell(WIDTH, 7, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(1)

    def _width(self, text: str) -> float:
        """Width in mm from the glyph widths (fpdf2's get_string_width costs ~0.3 ms a call)."""
        font = self.current_font
        assert isinstance(font, TTFFont)
        return sum(font.cw[ord(c)] for c in text) * self.font_size_pt * 0.001 / self.k

    def _lines(self, text: str, width: float) -> list[str]:
        """Greedy word wrap, in linear time (fpdf2's own is quadratic on a long text)."""
        room = width - 2 * self.c_margin
        if "\n" not in text and self._width(text) <= room:
            return [text]
        space = self._width(" ")
        lines: list[str] = []
        for paragraph in text.split("\n"):
            words: list[str] = []
            used = 0.0
            for word in paragraph.split(" "):
                size = self._width(word)
                if words and used + space + size > room:
                    lines.append(" ".join(words))
                    words, used = [], 0.0
                while size > room:  # a word wider than the column is cut
                    cut = self._fit(word, room)
                    lines.append(word[:cut])
                    word = word[cut:]
                    size = self._width(word)
                used = used + space + size if words else size
                words.append(word)
            lines.append(" ".join(words))
        return lines

    def _fit(self, word: str, room: float) -> int:
        """How many leading characters of `word` fit in `room` (one at least)."""
        used = 0.0
        for index, char in enumerate(word):
            used += self._width(char)
            if used > room:
                return max(index, 1)
        return len(word)

    def row(
        self,
        widths: Sequence[float],
        texts: Sequence[str],
        *,
        head: Sequence[str] | None = None,
        bold: bool = False,
    ) -> None:
        """One table row, continued on the next page (under `head`) when it does not fit."""
        self.set_font(FAMILY, "B" if bold else "", SIZE)
        self.set_fill_color(*GREY)
        cells = [self._lines(self.text_of(t), w) for t, w in zip(texts, widths, strict=True)]
        done, total = 0, max(len(c) for c in cells)
        baseline = 0.3 * self.font_size  # as fpdf2's cell() centres a line vertically
        while done < total:
            room = int((self.page_break_trigger - self.get_y()) // LINE)
            if room < min(total - done, 2):
                self.add_page()
                if head is not None:
                    self.row(widths, head, bold=True)
                self.set_font(FAMILY, "B" if bold else "", SIZE)
                continue
            take = min(total - done, room)
            x, y = self.l_margin, self.get_y()
            for width, lines in zip(widths, cells, strict=True):
                self.rect(x, y, width, take * LINE, style="DF" if bold else "D")
                for i, line in enumerate(lines[done : done + take]):
                    if line:
                        self.text(x + self.c_margin, y + (i + 0.5) * LINE + baseline, line)
                x += width
            self.set_xy(self.l_margin, y + take * LINE)
            done += take

    def grid(
        self, widths: Sequence[float], head: Sequence[str], rows: Sequence[Sequence[str]]
    ) -> None:
        self.row(widths, head, bold=True)
        for values in rows:
            self.row(widths, values, head=head)


def exercise_banner(pdf: Document) -> None:
    pdf.set_fill_color(*YELLOW)
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(WIDTH, 10, EXERCISE_BANNER, align="C", fill=True)
    pdf.ln(12)


def _body(pdf: Document, view: SummaryView) -> None:
    pdf.put(WIDTH, f"Bilan : {view.title}", size=16, bold=True)
    pdf.ln(2)
    pdf.grid([40, 140], ["Rubrique", "Détail"], [list(fact) for fact in view.facts])
    pdf.heading("Engagements horaires")
    pdf.grid(
        [17, 34.5, 34.5, 35, 24, 35],
        ["Horloge", "Départ", "Échéance", "Atteint", "Résultat", "Alertes"],
        [[c.code, c.started, c.deadline, c.reached, c.result, c.alerts] for c in view.clocks],
    )
    _bulletins(pdf, view)
    _deliveries(pdf, view)
    _journal(pdf, view)


def _bulletins(pdf: Document, view: SummaryView) -> None:
    pdf.heading("Communiqués")
    if view.bulletins:
        pdf.grid(
            [10, 58, 35, 15, 62],
            ["N°", "Titre", "Publié", "Envois", "Par public et par statut"],
            [
                [str(b.number), b.title, b.published, str(b.deliveries), b.figures]
                for b in view.bulletins
            ],
        )
    else:
        pdf.put(WIDTH, "Aucun communiqué publié.")


def _deliveries(pdf: Document, view: SummaryView) -> None:
    pdf.heading("Envois des communiqués")
    if view.statuses:
        pdf.put(WIDTH, view.totals)
        pdf.ln(1)
        column = (WIDTH - 40) / len(view.statuses)
        pdf.grid(
            [40, *[column] * len(view.statuses)],
            ["Public", *view.statuses],
            [[name, *map(str, counts)] for name, counts in view.audiences],
        )
    else:
        pdf.put(WIDTH, "Aucun envoi.")
    pdf.ln(1)
    pdf.put(WIDTH, view.others)


def _journal(pdf: Document, view: SummaryView) -> None:
    """The cabinet's entries, the whole timeline, and how to check it (hash, checkpoint)."""
    pdf.heading("Décisions, informations et actions du cabinet")
    if view.cabinet:
        pdf.grid(
            [30, 25, 65, 30, 30],
            ["Heure du fait", "Nature", "Texte", "Source", "Auteur"],
            [[c.occurred, c.kind, c.text, c.source, c.author] for c in view.cabinet],
        )
    else:
        pdf.put(WIDTH, "Aucune entrée du cabinet dans la main courante.")
    pdf.heading("Chronologie (main courante)")
    pdf.grid(
        [30, 35, 45, 70],
        ["Heure (Paris)", "Qui", "Action", "Détail"],
        [[e.at, e.actor, e.action, e.detail] for e in view.timeline],
    )
    pdf.ln(2)
    pdf.put(WIDTH, f"Empreinte de la dernière entrée : {view.last_hash}", size=7)
    pdf.heading("Point de contrôle signé de la main courante")
    if len(view.checkpoint) == 1:
        pdf.put(WIDTH, view.checkpoint[0][1])
    else:
        pdf.grid([40, 140], ["Rubrique", "Détail"], [list(line) for line in view.checkpoint])


def render(view: SummaryView, *, generated_at: datetime) -> bytes:
    pdf = Document(
        stamp=(
            f"Synthèse établie le {view.generated}",
            f"Tocsin · bilan de l'événement n° {view.crisis_id}",
        ),
        exercise=view.exercise,
    )
    pdf.set_title(f"Bilan : {view.title}")
    pdf.set_author("Préfecture de la Somme")
    pdf.set_creator("Tocsin")
    pdf.set_creation_date(generated_at)
    pdf.add_page()
    if view.exercise:
        exercise_banner(pdf)
    _body(pdf, view)
    if pdf.replaced:
        log.warning(
            "summary PDF of crisis %s: %d character(s) outside the font printed as U+FFFD",
            view.crisis_id,
            pdf.replaced,
        )
    return bytes(pdf.output())
