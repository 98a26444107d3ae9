"""Whole-process figures, as a user runs the bot (a plain script, not a test):

    .venv/bin/python tests/bench/bench_process.py [--sizes 1,1000,20000] [--cpu 0|none]

Input comes from the shared bench kit (`make_threads.py`: real forum posts with light
mutations), found at $BENCH_DIR or ../shared/bench beside the repository.
For each size, `triagebot triage` runs as its own process under /usr/bin/time -v
(wall, user+sys CPU, peak RSS, start-up and I/O included), and the shared keyword
auto-responder runs on the same input in the same run: the ratio of the two is the
figure to compare across machines. Also printed: start-up to first decision (one
thread, warm and with an empty data cache), `triagebot issues list` and `--help`
(whole process), and warm single-post latency (in-process, labelled as such).
Everything is pinned to one core (taskset) unless --cpu none.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_ENV = "BENCH_DIR"
TIME = "/usr/bin/time"
# Issue 14's targets (one core, whole process).
TARGET_STARTUP_S = 0.5
TARGET_RSS_MB = 150
TARGET_LIST_S = 0.3
TARGET_RATE = 3000
TARGET_RATIO = 8
TARGET_P95_MS = 1.5


class BenchError(Exception):
    """A missing tool or input: reported as one line."""


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    rss_mb: float


def bench_dir() -> Path:
    explicit = os.environ.get(BENCH_ENV)
    candidates = [Path(explicit)] if explicit else []
    candidates.append(ROOT.parent / "shared" / "bench")
    for path in candidates:
        if (path / "make_threads.py").is_file() and (path / "keyword_baseline.py").is_file():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise BenchError(
        f"shared bench kit not found (tried {tried}); set {BENCH_ENV} to the directory "
        "holding make_threads.py and keyword_baseline.py"
    )


def _wall(text: str) -> float:
    """/usr/bin/time's 'h:mm:ss' or 'm:ss.ss' as seconds."""
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def timed(cmd: list[str], pin: list[str], env: dict[str, str] | None = None) -> Run:
    """One process under /usr/bin/time -v; its own stderr goes to a file we parse."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        full = [TIME, "-v", "-o", report.name, *pin, *cmd]
        done = subprocess.run(
            full, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if done.returncode != 0:
            last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            raise BenchError(f"{' '.join(cmd[:4])}... failed: {last[0]}")
        text = report.read()
    fields = dict(
        (k.strip(), v.strip()) for k, _, v in (line.partition(": ") for line in text.splitlines())
    )
    try:
        return Run(
            wall_s=_wall(fields["Elapsed (wall clock) time (h:mm:ss or m:ss)"]),
            cpu_s=float(fields["User time (seconds)"]) + float(fields["System time (seconds)"]),
            rss_mb=int(fields["Maximum resident set size (kbytes)"]) / 1024,
        )
    except (KeyError, ValueError) as exc:
        raise BenchError(f"cannot read /usr/bin/time's report ({exc})") from None


def best_of(n: int, cmd: list[str], pin: list[str], env: dict[str, str] | None = None) -> Run:
    """The median run by wall time (short commands vary with the machine's load)."""
    runs = sorted((timed(cmd, pin, env) for _ in range(n)), key=lambda r: r.wall_s)
    return runs[len(runs) // 2]


def make_input(kit: Path, n: int, out: Path) -> Path:
    if not out.is_file():
        subprocess.run([sys.executable, str(kit / "make_threads.py"), str(n), str(out)], check=True)
    return out


def single_post_latency(threads_file: Path, count: int) -> tuple[float, float]:
    """(p50, p95) ms of one warm post at a time, in-process (start-up excluded)."""
    sys.path.insert(0, str(ROOT))
    from bot.config import Config
    from bot.offline.batch import iter_threads
    from bot.triage.engine import load_triager

    triager = load_triager(Config(data_dir=str(ROOT / "data"), models_dir=str(ROOT / "models")))
    with threads_file.open(encoding="utf-8") as stream:
        threads = list(iter_threads(stream))[:count]
    for t in threads[:50]:
        triager.decide(t)  # warm
    out = []
    for t in threads:
        start = time.perf_counter()
        triager.decide(t)
        out.append((time.perf_counter() - start) * 1000)
    out.sort()
    return statistics.median(out), out[int(0.95 * (len(out) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1,1000,20000", help="thread counts, comma-separated")
    parser.add_argument("--cpu", default="0", help="core to pin every process to, or 'none'")
    parser.add_argument("--work", default=None, help="directory for inputs (kept between runs)")
    parser.add_argument(
        "--repo",
        default=None,
        help="another checkout to measure with its own .venv (e.g. before a change)",
    )
    args = parser.parse_args()
    global ROOT
    python = sys.executable
    if args.repo:
        ROOT = Path(args.repo).resolve()
        python = str(ROOT / ".venv" / "bin" / "python")
        if not Path(python).is_file():
            raise BenchError(f"{python} is missing: run `make .venv/.installed` in {ROOT}")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    if not Path(TIME).is_file():
        raise BenchError(f"{TIME} is missing (Debian: apt-get install time)")
    kit = bench_dir()
    pin: list[str] = []
    if args.cpu != "none":
        if not shutil.which("taskset"):
            raise BenchError("taskset is missing (util-linux); use --cpu none to run unpinned")
        pin = ["taskset", "-c", args.cpu]
    # One core for numpy's BLAS too, in every child.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(ROOT)
    work = Path(args.work) if args.work else Path(tempfile.gettempdir()) / "triagebot-bench"
    work.mkdir(parents=True, exist_ok=True)
    bot = [python, "-m", "bot"]

    where = f"{'core ' + args.cpu if pin else 'unpinned'}; {ROOT}; input from {kit}"
    print(f"whole-process figures, {where}")
    inputs = {n: make_input(kit, n, work / f"threads-{n}.jsonl") for n in sizes}
    out = work / "decisions.jsonl"
    # An untimed first run: the data cache and the OS file cache as on any later start.
    timed([*bot, "triage", "--input", str(inputs[sizes[0]]), "--output", str(out)], pin, env)

    print()
    print(
        f"{'threads':>8} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'threads/s':>10}"
        f" {'per cpu-s':>10} {'keyword s':>10} {'× keyword':>10} {'kw MB':>7}"
    )
    for n in sizes:
        src = str(inputs[n])
        runs = 3 if n <= 1000 else 1
        ours = best_of(runs, [*bot, "triage", "--input", src, "--output", str(out)], pin, env)
        base_cmd = [sys.executable, str(kit / "keyword_baseline.py"), src, str(work / "kw.jsonl")]
        base = best_of(runs, base_cmd, pin, env)
        print(
            f"{n:>8} {ours.wall_s:>8.2f} {ours.cpu_s:>8.2f} {ours.rss_mb:>8.0f}"
            f" {n / ours.wall_s:>10.0f} {n / ours.cpu_s:>10.0f}"
            f" {base.wall_s:>10.2f} {ours.wall_s / base.wall_s:>10.1f}"
            f" {base.rss_mb:>7.0f}"
        )
    print(
        f"  targets: peak RSS <= {TARGET_RSS_MB} MB at any size; 20,000 threads >= "
        f"{TARGET_RATE} threads/s and <= {TARGET_RATIO} x keyword (per cpu-s: threads per"
        " second of the process's own CPU time, steadier on a shared machine)"
    )

    print()
    one = make_input(kit, 1, work / "threads-1.jsonl")
    triage_one = [*bot, "triage", "--input", str(one), "--output", str(out)]
    warm = best_of(5, triage_one, pin, env)
    with tempfile.TemporaryDirectory() as empty:
        cold = timed(triage_one, pin, {**env, "TRIAGEBOT_CACHE_DIR": empty})
    print(
        f"start-up to first decision (1 thread): {warm.wall_s:.2f} s wall,"
        f" {warm.cpu_s:.2f} s cpu, {warm.rss_mb:.0f} MB"
        f"   (target <= {TARGET_STARTUP_S} s)"
    )
    print(f"  with an empty data cache:            {cold.wall_s:.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        subprocess.run(
            [*bot, "--db", db, "init"], env=env, check=True, capture_output=True, cwd=tmp
        )
        subprocess.run(
            [*bot, "--db", db, "issues", "import", str(ROOT / "data" / "known_issues")],
            env=env,
            check=True,
            capture_output=True,
            cwd=tmp,  # `-m bot` reads the working directory first: never another checkout
        )
        listing = best_of(5, [*bot, "--db", db, "issues", "list"], pin, env)
    helping = best_of(5, [*bot, "--help"], pin, env)
    print(
        f"triagebot issues list: {listing.wall_s:.2f} s wall, {listing.cpu_s:.2f} s cpu"
        f"   (target <= {TARGET_LIST_S} s)"
    )
    print(f"triagebot --help:      {helping.wall_s:.2f} s wall, {helping.cpu_s:.2f} s cpu")

    if args.repo:
        return  # in-process latency needs this checkout's own interpreter
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(args.cpu)})
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    src = make_input(kit, 1000, work / "threads-1000.jsonl")
    p50, p95 = single_post_latency(src, 1000)
    print(
        f"single post, warm (in-process, 1,000 bench threads one by one): p50 {p50:.2f} ms,"
        f" p95 {p95:.2f} ms   (target p95 <= {TARGET_P95_MS} ms)"
    )


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(2)
    except subprocess.CalledProcessError as exc:
        # A step of the measured checkout failed: say which, with its last error line.
        lines = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        why = lines[-1] if lines else f"exit status {exc.returncode}"
        print(f"bench: {' '.join(map(str, exc.cmd))} failed: {why}", file=sys.stderr)
        sys.exit(2)
