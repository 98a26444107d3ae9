"""The offline batch contract: threads.jsonl in, decisions.jsonl out (see DESIGN.md).

Every input line is parsed and checked before anything is decided, so a malformed
line fails the run with its line number and nothing is written. Output goes to a
temporary file in the destination directory and is renamed into place at the end:
a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from bot.errors import UserError

# The batch drives the stages offline, as the runner does online: triage decides, then
# bot.replies renders the reply the contract carries (the one import of a higher layer
# in bot/triage, declared in the layering contracts).
from bot.replies.render import decision_json
from bot.triage.types import Decision, Thread

CHUNK = 256


class BatchError(UserError):
    """Bad batch input or an unwritable output; the message names the line or file."""


class Decider(Protocol):
    def decide_many(self, threads: Sequence[Thread]) -> list[Decision]: ...


def json_object(line: str, where: str, expected: str = "a JSON object") -> dict[str, Any]:
    """One JSONL line as a dict, or BatchError saying where and what was expected."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BatchError(f"{where}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        # The C decoder recurses once per level: a thread nested 100,000 deep is bad input.
        raise BatchError(f"{where}: not valid JSON (nested too deeply)") from None
    except ValueError:
        # Python refuses to convert integers of more than 4,300 digits (CVE-2020-10735).
        raise BatchError(f"{where}: not valid JSON (a number is too long)") from None
    if not isinstance(data, dict):
        raise BatchError(f"{where}: must be {expected}")
    return data


def parse_thread(line: str, lineno: int, source: str = "input") -> Thread:
    """One input line as a Thread, or BatchError naming the line."""
    where = f"{source}: line {lineno}"
    data = json_object(line, where, "a JSON object with id, title and posts")
    tid = data.get("id")
    if isinstance(tid, int | float) and not isinstance(tid, bool):
        tid = str(tid)
    if not isinstance(tid, str) or not tid:
        raise BatchError(f"{where}: id must be a non-empty string")
    title = data.get("title", "")
    if title is None:
        title = ""
    if not isinstance(title, str):
        raise BatchError(f"{where}: title must be a string")
    posts = data.get("posts")
    if not isinstance(posts, list) or not all(isinstance(p, str) for p in posts):
        raise BatchError(f"{where}: posts must be a list of strings (the first is decided)")
    return Thread(id=tid, title=title, posts=tuple(posts))


def read_threads(stream: IO[str], source: str = "input") -> list[Thread]:
    """All threads in a JSONL stream; blank lines are skipped."""
    threads: list[Thread] = []
    try:
        for lineno, line in enumerate(stream, start=1):
            if line.strip():
                threads.append(parse_thread(line, lineno, source))
    except UnicodeDecodeError as exc:
        raise BatchError(f"{source}: not UTF-8 text ({exc.reason})") from None
    return threads


def decide_all(
    triager: Decider,
    threads: Sequence[Thread],
    progress: Callable[[int], None] | None = None,
) -> Iterator[Decision]:
    """Decisions in input order, in chunks so the models run vectorised."""
    for start in range(0, len(threads), CHUNK):
        chunk = threads[start : start + CHUNK]
        yield from triager.decide_many(chunk)
        if progress is not None:
            progress(len(chunk))


def write_atomic(path: Path, lines: Sequence[str]) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise BatchError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(lines)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise BatchError(f"{path}: cannot write ({exc.strerror})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def open_input(path: str) -> tuple[IO[str], bool]:
    """(stream, whether the caller must close it); `-` is stdin."""
    if path == "-":
        return sys.stdin, False
    try:
        return open(path, encoding="utf-8"), True  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise BatchError(f"{path}: cannot read ({exc.strerror})") from None


def run_batch(
    triager: Decider,
    input_path: str,
    output_path: str,
    *,
    progress_factory: Callable[[int], Any] | None = None,
) -> int:
    """Triage every thread in input_path into output_path; returns the count."""
    stream, close = open_input(input_path)
    try:
        threads = read_threads(stream, "stdin" if input_path == "-" else input_path)
    finally:
        if close:
            stream.close()
    lines: list[str] = []
    if progress_factory is not None and threads:
        with progress_factory(len(threads)) as advance:
            lines = [_line(d) for d in decide_all(triager, threads, advance)]
    else:
        lines = [_line(d) for d in decide_all(triager, threads)]
    if output_path == "-":
        sys.stdout.writelines(lines)
        sys.stdout.flush()
    else:
        write_atomic(Path(output_path), lines)
    return len(lines)


def _line(decision: Decision) -> str:
    return json.dumps(decision_json(decision), ensure_ascii=False) + "\n"
