"""Logging set-up: plain text or JSON lines, with secrets scrubbed from every record.

The bot token appears in Telegram API URLs (httpx logs them), so a filter replaces it
wherever it shows up, including in exception text.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        for secret in self._secrets:
            text = text.replace(secret, "[REDACTED]")
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, "[REDACTED]")
        record.msg, record.args = text, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc"] = record.exc_text
        return json.dumps(payload, default=str, ensure_ascii=False)


def configure_logging(
    level: str = "INFO", fmt: str = "text", secrets: list[str] | None = None
) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactSecrets(secrets or []))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO; Telegram URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def error_line(exc: BaseException) -> str:
    """An exception as one short line for operators (health JSON, `doctor`, admin messages):
    SQLAlchemy and httpx append the SQL, a help link or a traceback-like tail otherwise."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
    return f"{name}: {text}"[:300] if text else name
