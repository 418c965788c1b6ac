"""The error every check reports: where (file and line) and what, in French."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class CheckError:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class PlaybookLibraryError(Exception):
    """The library does not pass `check_directory`; `errors` says why."""

    def __init__(self, errors: list[CheckError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors
