"""Refusals raised by services; the web layer maps each to its HTTP status.

DomainError            code, French message, details
├── InvalidInput       422: the request is malformed or incomplete
├── NotFound           404
├── Forbidden          403: the actor lacks a role or the right (journaled)
└── Conflict           409: not allowed in the current state (journaled)
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    journaled = False

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403
    journaled = True


class Conflict(DomainError):
    status = 409
    journaled = True
