"""The offline batch contract: threads.jsonl in, decisions.jsonl out (see DESIGN.md).

Every input line is parsed and checked in a first streaming pass before anything is
decided, so a malformed line fails the run with its line number and nothing is
written. The second pass decides a chunk at a time and writes as it goes (memory is
flat at any size); file output goes to a temporary file in the destination directory,
renamed into place at the end: a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from itertools import islice
from pathlib import Path
from typing import IO, Any, Protocol, cast

from bot.errors import UserError

# The batch drives the stages offline, as the runner does online: triage decides, then
# bot.replies renders the reply the contract carries.
from bot.replies.render import decision_json
from bot.triage.types import Decision, Thread

CHUNK = 256
# Stdin is checked before it is decided: up to this much is held in memory, the rest
# goes to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024


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


def iter_threads(stream: Iterable[str], source: str = "input") -> Iterator[Thread]:
    """The threads of a JSONL stream (any iterable of lines), one at a time; blank lines
    are skipped."""
    try:
        for lineno, line in enumerate(stream, start=1):
            if line.strip():
                yield parse_thread(line, lineno, source)
    except UnicodeDecodeError as exc:
        raise BatchError(f"{source}: not UTF-8 text ({exc.reason})") from None


def decide_all(
    triager: Decider,
    threads: Iterable[Thread],
    progress: Callable[[int], None] | None = None,
) -> Iterator[Decision]:
    """Decisions in input order, a chunk at a time: the models run vectorised over a
    chunk, and no more than one chunk of threads is held."""
    it = iter(threads)
    while chunk := list(islice(it, CHUNK)):
        yield from triager.decide_many(chunk)
        if progress is not None:
            progress(len(chunk))


def decision_line(decision: Decision) -> str:
    """The one place a decision becomes an output line (DESIGN.md's batch contract)."""
    return json.dumps(decision_json(decision), ensure_ascii=False) + "\n"


@contextmanager
def _checked_input(input_path: str) -> Iterator[tuple[IO[str], int]]:
    """(the input rewound, its thread count) after a first streaming pass has parsed
    every line: a malformed line ends the run before anything is decided or written.
    A file is read again; stdin or a pipe is copied to a temporary file (memory up to
    SPOOL_BYTES, disk beyond) as it is checked."""
    source = "stdin" if input_path == "-" else input_path
    stream, close = open_input(input_path)
    with ExitStack() as stack:
        if close:
            stack.enter_context(stream)
        if stream.seekable():
            start = stream.tell()  # stdin redirected from a file may not start at 0
            count = sum(1 for _ in iter_threads(stream, source))
            stream.seek(start)
            yield stream, count
            return
        spool = stack.enter_context(
            tempfile.SpooledTemporaryFile(
                max_size=SPOOL_BYTES, mode="w+", encoding="utf-8", newline=""
            )
        )
        copy = cast(IO[str], spool)
        count = sum(1 for _ in iter_threads(_copied(stream, copy), source))
        copy.seek(0)
        yield copy, count


def _copied(stream: IO[str], copy: IO[str]) -> Iterator[str]:
    for line in stream:
        copy.write(line)
        yield line


@contextmanager
def _atomic_output(path: Path) -> Iterator[IO[str]]:
    """A temporary file beside `path`, renamed onto it when the block ends normally
    and removed on any error: a reader never sees half a file, and a failed run
    leaves the previous output as it was."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise BatchError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yield out
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
    """Triage every thread in input_path into output_path; returns the count.

    Two streaming passes: every line is checked, then read again, decided a chunk at
    a time and written as it is decided, so memory stays flat at any input size."""
    source = "stdin" if input_path == "-" else input_path
    with _checked_input(input_path) as (stream, count), ExitStack() as stack:
        advance = None
        if progress_factory is not None and count:
            advance = stack.enter_context(progress_factory(count))
        decisions = decide_all(triager, iter_threads(stream, source), advance)
        if output_path == "-":
            for decision in decisions:
                sys.stdout.write(decision_line(decision))
            sys.stdout.flush()
        else:
            with _atomic_output(Path(output_path)) as out:
                for decision in decisions:
                    out.write(decision_line(decision))
    return count
