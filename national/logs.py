"""Structured logs: one JSON object a line, with no child data (no payload, name or body).

Requests are logged by route template (`/v1/la/cases/{submission_id}`), never the filled-in
path, with status, duration and the caller's role.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

LOGGER = "onesend.national"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        try:
            parsed: Any = json.loads(message)
        except ValueError:
            parsed = None
        body: dict[str, Any] = parsed if isinstance(parsed, dict) else {"message": message}
        body.setdefault("level", record.levelname.lower())
        body.setdefault("at", round(time.time(), 3))
        return json.dumps(body, sort_keys=True)


def configure_logging(level: int = logging.INFO) -> None:
    logger = logging.getLogger(LOGGER)
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def log_event(**fields: Any) -> None:
    logging.getLogger(LOGGER).info(json.dumps(fields, sort_keys=True, default=str))
