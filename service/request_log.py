"""Structured logs: one JSON object per line, on stderr, for each request and each service event.

Fields: time (UTC ISO 8601), level, logger, message, and whatever the caller passes in `extra={"fields": ...}`
(method, path, status, duration_ms, principal, request_id...). Never a request body, a PIN or a key.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

LOGGER_NAME = "kyso.service"


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def service_logger(stream=None) -> logging.Logger:
    """The service's logger with a JSON-lines handler (installed once per process)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(getattr(handler, "_kyso_json", False) for handler in logger.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonLineFormatter())
        handler._kyso_json = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
