"""Logging set-up for the long-running commands: text for people, JSON for collectors."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("x", 0, "x", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = (
                    value if isinstance(value, str | int | float | bool | None) else repr(value)
                )
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(*, verbose: bool, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # force: a second configuration in one process (tests, demo) replaces the first.
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, handlers=[handler], force=True
    )
    if log_format == "json":
        # uvicorn installs its own text handlers; route its records through ours.
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            lg = logging.getLogger(name)
            lg.handlers = []
            lg.propagate = True


def banner(services: Any, url: str | None = None) -> str:
    """One line: where the bot listens (`serve`) or what it polls (`run`), its mode,
    forum, known issues and model, e.g.
    `triagebot http://0.0.0.0:8080: mode review, forum https://f.example, 30 known issues, model 1a2b`."""
    config = services.config
    issues = len(services.store.list_issues())
    model = getattr(services.triager, "model_version", None) or type(services.triager).__name__
    where = f"triagebot {url}" if url else f"triagebot polling {config.forum_url}"
    forum = f", forum {config.forum_url}" if url else ""
    return f"{where}: mode {config.mode}{forum}, {issues} known issues, model {model}"
