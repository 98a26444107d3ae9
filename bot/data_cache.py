"""Validated data files remembered by their content.

Parsing and validating the known-issue and training YAML costs about half a second,
and the files rarely change between two starts. What validation produced is kept as
JSON (never pickle) under a key that hashes the files' names and bytes together with
the source of the module that validates them: any edit to the data or to the
validator is a miss, and only data that passed validation is ever stored.

The cache is an optimisation only: a directory that cannot be read or written
(read-only home, container) or an entry that does not parse means no cache, silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

CACHE_ENV = "TRIAGEBOT_CACHE_DIR"
# Bump when the layout of a cache entry changes.
CACHE_VERSION = 1
# Entries kept per kind: a few checkouts or data directories in turn all stay warm.
KEEP = 8


def cache_dir() -> Path:
    """$TRIAGEBOT_CACHE_DIR, else the user's cache directory."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "triagebot" / "data"


def content_key(kind: str, validator: str | Path, files: Sequence[Path]) -> str | None:
    """The key for `files` as validated by the module at `validator` (its source file);
    None when a file cannot be read (the caller's own reading reports why)."""
    h = hashlib.sha256(f"{kind}:{CACHE_VERSION}\0".encode())
    try:
        h.update(Path(validator).read_bytes())
        for path in files:
            data = path.read_bytes()
            h.update(f"\0{path.name}\0{len(data)}\0".encode())
            h.update(data)
    except OSError:
        return None
    return h.hexdigest()


def _entry(kind: str, key: str) -> Path:
    return cache_dir() / f"{kind}-{key}.json"


def read(kind: str, key: str) -> Any | None:
    """The stored data, or None (no entry, or one that cannot be read)."""
    try:
        return json.loads(_entry(kind, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write(kind: str, key: str, data: Any) -> None:
    """Store `data` (JSON-serialisable) and drop this kind's entries beyond the KEEP
    most recent; any failure to write leaves things as they were."""
    path = _entry(kind, key)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False)
        os.replace(tmp, path)
        tmp = None
        others = [p for p in path.parent.glob(f"{kind}-*.json") if p != path]
        others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in others[KEEP - 1 :]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def validated(
    kind: str,
    validator: str | Path,
    files: Sequence[Path],
    validate: Callable[[], T],
    encode: Callable[[T], list[Any]],
    decode: Callable[[list[Any]], T],
) -> T:
    """What `validate()` makes of `files`, read back from the cache when the same files
    were validated by the same module before; an entry of another shape is validated
    again. A failed validation stores nothing, so bad data gives the same errors."""
    key = content_key(kind, validator, files)
    cached = read(kind, key) if key else None
    if isinstance(cached, list):
        try:
            return decode(cached)
        except (KeyError, TypeError, ValueError):
            pass
    value = validate()
    if key:
        write(kind, key, encode(value))
    return value
