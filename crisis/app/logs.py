"""Structured JSON logs with the request id, and secrets masked before anything is written."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str] = ContextVar("request_id", default="-")

_SECRET_PATTERNS = [
    re.compile(r"(Bearer\s+)\S+", re.IGNORECASE),
    re.compile(r"\btcs_[A-Za-z0-9_-]+"),
    re.compile(r"\bbot\d+:[A-Za-z0-9_-]+"),
    # `password=…`, `"token": "…"`, OAuth's `oauth_consumer_key="…"`, also inside a JSON
    # string (quotes escaped by a backslash).
    re.compile(
        r"((?:password|passwd|secret|token|api_key|consumer_key)[\\\"']*\s*[:=]\s*[\\\"']*)"
        r"[^\s\\\"',}]+",
        re.I,
    ),
]
_known_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it would appear in a log line."""
    if value and len(value) >= 6:
        _known_secrets.add(value)


def mask(text: str) -> str:
    for secret in _known_secrets:
        text = text.replace(secret, "****")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "****", text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": request_id.get(),
            "message": record.getMessage(),
        }
        for key in ("method", "path", "status", "duration_ms", "crisis_id"):
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return mask(json.dumps(line, ensure_ascii=False, default=str))


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class SkippedTick(logging.Filter):
    """A tick still running when its next one falls due: APScheduler skips that one (by design,
    `max_instances=1`) and warns each time; under load, several times a second per instance,
    burying the warnings that matter. Those records are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def configure(*, json_logs: bool, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_logs else PlainFormatter("%(asctime)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "aiosqlite", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    scheduler = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, SkippedTick) for f in scheduler.filters):
        scheduler.addFilter(SkippedTick())
    # OAuth 1 (X) logs the signing base string and the Authorization header at DEBUG: the
    # consumer key and the access token in clear, URL-encoded where no mask can find them.
    for signing in ("oauthlib", "requests_oauthlib"):
        logging.getLogger(signing).setLevel(logging.WARNING)
