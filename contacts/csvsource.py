"""Streaming CSV reading with physical line numbers and per-line encoding errors."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from contacts.geography import search_key
from contacts.records import LineError

BOM = b"\xef\xbb\xbf"
_PUNCTUATION = re.compile(r"[^a-z0-9_]+")


def header_key(name: str) -> str:
    """« Code du département (Maire) » → « code du departement maire »."""
    return _PUNCTUATION.sub(" ", search_key(name)).strip()


class CsvSource:
    """Rows of a `;`- or `,`-separated UTF-8 file (BOM or not), read one line at a time.

    Lines that are not UTF-8 are decoded with replacement characters and recorded in
    `errors`, so that validation goes on and names every bad line.
    """

    def __init__(self, stream: BinaryIO | Iterable[bytes]) -> None:
        self._stream = stream
        self.errors: list[LineError] = []
        self.header: list[str] = []
        self.bytes_read = 0
        self._line = 0
        self.delimiter = ";"

    def _lines(self) -> Iterator[str]:
        for raw in self._stream:
            self._line += 1
            self.bytes_read += len(raw)
            if self._line == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.errors.append(
                    LineError(
                        self._line,
                        "encodage invalide : le fichier doit être en UTF-8 "
                        "(enregistrez-le en « CSV UTF-8 »)",
                    )
                )
                yield raw.decode("utf-8", errors="replace")

    def open(self) -> list[str]:
        """Read the header line; returns its column names as written."""
        self._lines_iter = self._lines()
        first = next(self._lines_iter, "")
        self.delimiter = ";" if first.count(";") >= first.count(",") else ","
        self.header = next(csv.reader([first], delimiter=self.delimiter), [])
        return self.header

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(line number, {normalised header: value}) for each non-empty data row."""
        if not hasattr(self, "_lines_iter"):
            self.open()
        names = [header_key(h) for h in self.header]
        reader = csv.reader(self._lines_iter, delimiter=self.delimiter)
        consumed = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error:
                limit = f"{csv.field_size_limit():,}".replace(",", "\u202f")
                self.errors.append(
                    LineError(consumed + 1, f"champ illisible ou de plus de {limit} caractères")
                )
                return
            line = consumed + 1
            consumed = reader.line_num + 1
            if not "".join(fields).strip():
                continue
            if len(fields) != len(names):
                self.errors.append(
                    LineError(line, f"{len(fields)} colonnes au lieu des {len(names)} de l'en-tête")
                )
                continue
            yield line, dict(zip(names, (read_cell(f.strip()) for f in fields), strict=True))

    def resolve_columns(
        self, aliases: dict[str, tuple[str, ...]], required: Iterable[str]
    ) -> tuple[dict[str, str], list[str]]:
        """Map our field names to header names; returns (mapping, missing required fields)."""
        present = {header_key(h) for h in self.header}
        mapping: dict[str, str] = {}
        for name, options in aliases.items():
            for option in options:
                if option in present:
                    mapping[name] = option
                    break
        missing = [name for name in required if name not in mapping]
        return mapping, missing


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (CSV injection)."""


def spreadsheet_cell(value: str) -> str:
    """A cell every spreadsheet shows as text: one that starts like a formula gets a « ' »."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def read_cell(value: str) -> str:
    """The value a `spreadsheet_cell` was made from (our own exports re-import unchanged)."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
