"""In-process triage figures (a plain script, not a test): run with

    .venv/bin/python tests/bench/bench_triage.py [--threads 6000] [--skip-train]

Prints: model load time, batch throughput (threads/s, one core, after load), single
post latency (p50/p95), training time on the full data, and peak RSS. Threads are
built from the project's own training examples (cycled), so no measurement data is
touched; `--input FILE` times the threads of a JSONL file instead (such as the shared
bench generator's realistic threads). These leave out start-up and I/O and keep every
cache hot, so they flatter: the figures to quote are bench_process.py's (whole process,
shared bench input).
"""

from __future__ import annotations

import os

# One core: keep BLAS/OpenMP from spreading work over others before numpy loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.known_issues import load_dir  # noqa: E402
from bot.replies.render import clear_reply_cache, render_decision  # noqa: E402
from bot.triage import classifier  # noqa: E402
from bot.triage.engine import Triager  # noqa: E402
from bot.triage.training_data import data_hash, load_training_dir  # noqa: E402
from bot.triage.types import Thread  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=6000, help="threads in the batch run")
    parser.add_argument("--single", type=int, default=1000, help="posts timed one by one")
    parser.add_argument("--skip-train", action="store_true", help="do not time training")
    parser.add_argument("--input", help="JSONL threads to time instead of the training examples")
    parser.add_argument("--data", default=str(ROOT / "data"), help="data directory")
    parser.add_argument("--models", default=str(ROOT / "models"), help="models directory")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    data = Path(args.data)
    issues = load_dir(data / "known_issues")
    examples = load_training_dir(data / "training")
    card = classifier.read_card(args.models)
    if card is None or card.data_hash != data_hash(
        issues,
        [e for e in examples if e.label in {i.slug for i in issues} | {"novel", "not_error"}],
    ):
        sys.exit("models/ is stale for this data: run `triagebot train` first")

    t0 = time.perf_counter()
    model = classifier.load(args.models)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    triager = Triager(issues, model)
    build_s = time.perf_counter() - t0

    if args.input:
        base = _read_threads(Path(args.input))
    else:
        base = [
            Thread(f"ex{i}", e.title, (e.text, *e.later_posts)) for i, e in enumerate(examples)
        ] or [Thread("x", "Error", ("Error: You exceeded your current quota",))]
    threads = [base[i % len(base)] for i in range(args.threads)]
    avg_chars = sum(len(t.first_post) for t in base) / len(base)

    def decide_many(batch: list[Thread]) -> list[str | None]:
        # What the batch does per line: decide, then render the reply it carries.
        return [render_decision(d) for d in triager.decide_many(batch)]

    def clear_caches() -> None:
        triager.clear_caches()
        clear_reply_cache()

    decide_many(threads[:256])  # warm caches (regex, numpy paths)
    t0, c0 = time.perf_counter(), time.process_time()
    decisions = decide_many(threads)
    batch_s, batch_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(decisions) == len(threads)
    clear_reply_cache()
    t0 = time.perf_counter()
    decide_many(base)
    unique_s = time.perf_counter() - t0
    # Cold: every cache (replies, normalised strings, n-gram columns) emptied first, as
    # right after load.
    clear_caches()
    t0 = time.perf_counter()
    decide_many(base)
    cold_unique_s = time.perf_counter() - t0

    def latencies(cold: bool) -> list[float]:
        out: list[float] = []
        for t in threads[: args.single]:
            if cold:
                clear_caches()  # every reply rendered, every string normalised afresh
            s = time.perf_counter()
            render_decision(triager.decide(t))
            out.append((time.perf_counter() - s) * 1000)
        return sorted(out)

    lat = latencies(cold=False)
    cold = latencies(cold=True)
    p95 = lat[int(0.95 * (len(lat) - 1))]
    cold_p95 = cold[int(0.95 * (len(cold) - 1))]

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    train_s = None
    if not args.skip_train:
        t0 = time.perf_counter()
        classifier.train(issues, examples)
        train_s = time.perf_counter() - t0

    print("in-process figures: training examples cycled, start-up and I/O left out")
    print(f"data: {len(issues)} issues, {len(examples)} training examples")
    print(f"threads: {len(threads)} (average first post {avg_chars:.0f} chars)")
    print(f"model load:        {load_s * 1000:8.1f} ms")
    print(f"triager build:     {build_s * 1000:8.1f} ms")
    print(f"batch throughput:  {len(threads) / batch_s:8.0f} threads/s")
    print(f"  CPU per thread:  {batch_cpu / len(threads) * 1e6:8.0f} µs   (in-process, one core)")
    print(f"  distinct threads:{len(base) / unique_s:8.0f} threads/s   (no reply reused)")
    print(f"  distinct, cold:  {len(base) / cold_unique_s:8.0f} threads/s   (all caches emptied)")
    print(
        f"single post:       p50 {statistics.median(lat):.2f} ms, p95 {p95:.2f} ms"
        "   (reply cache warm)"
    )
    print(
        f"single post, cold: p50 {statistics.median(cold):.2f} ms, p95 {cold_p95:.2f} ms"
        "   (all caches emptied before each post)"
    )
    if train_s is not None:
        print(f"training (full):   {train_s:8.2f} s    (target <= 10 s)")
    print(f"peak RSS (triage): {rss_mb:8.1f} MB")
    if train_s is not None:
        train_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS (+train): {train_rss:8.1f} MB")


def _read_threads(path: Path) -> list[Thread]:
    """The batch contract's input lines (DESIGN.md) as threads."""
    threads = []
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                data = json.loads(line)
                threads.append(
                    Thread(str(data["id"]), data.get("title") or "", tuple(data["posts"]))
                )
    return threads


if __name__ == "__main__":
    main()
