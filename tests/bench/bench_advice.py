"""Measure AI-advice corrections on the dev corpus (measurement only; prints figures).

Run: .venv/bin/python tests/bench/bench_advice.py [path/to/dev_posts.jsonl]
A thread "should" get a correction when its labelled issue is known and the corpus lists
false claims in its pasted AI advice; every other thread should get none.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bot.known_issues import load_dir
from bot.replies.render import render_reply
from bot.triage.advice import find_ai_advice, find_corrections
from bot.triage.secrets import find_secrets

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    corpus = Path(args[0]) if args else ROOT.parent / "shared/corpus/dev_posts.jsonl"
    issues = {i.slug: i for i in load_dir(ROOT / "data/known_issues")}
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line]
    tp = fn = fp = tn = 0
    advice_hits = advice_total = advice_false = 0
    verbose = "-v" in sys.argv
    lengths: list[int] = []
    render_time = 0.0
    leaks = 0
    started = time.perf_counter()
    for row in rows:
        posts = [row["text"], *row.get("later_posts", [])]
        blocks = find_ai_advice(posts)
        advice_total += bool(row["ai_advice"])
        advice_hits += bool(row["ai_advice"]) and bool(blocks)
        advice_false += (not row["ai_advice"]) and bool(blocks)
        issue = issues.get(row["label"])
        corrections = find_corrections(posts, issue) if issue else []
        should = bool(issue and row["ai_advice"] and row["ai_claims"])
        if should and corrections:
            tp += 1
        elif should:
            fn += 1
        elif corrections:
            fp += 1
        else:
            tn += 1
        if issue:
            t0 = time.perf_counter()
            reply = render_reply(
                issue, error_string=row.get("error_string") or None, corrections=corrections
            )
            render_time += time.perf_counter() - t0
            lengths.append(len(reply))
            leaks += bool(find_secrets(reply))
        if verbose and (should or corrections or bool(blocks) != row["ai_advice"]):
            print(
                f"--- {row['label']} should={should} advice={row['ai_advice']} blocks="
                f"{[b.kind for b in blocks]}"
            )
            for c in corrections:
                print(f"    claim: {c.claim}")
    elapsed = time.perf_counter() - started
    print(f"threads={len(rows)} time={elapsed * 1000:.0f} ms")
    print(
        f"AI advice found: {advice_hits}/{advice_total} labelled threads; "
        f"{advice_false} unlabelled threads flagged"
    )
    print(f"threads needing a correction: {tp + fn}, corrected: {tp}, missed: {fn}")
    print(f"threads corrected without a listed false claim: {fp}; left alone: {tn}")
    if lengths:
        lengths.sort()
        print(
            f"replies rendered: {len(lengths)}, chars median {lengths[len(lengths) // 2]}, "
            f"max {lengths[-1]}, mean render {render_time / len(lengths) * 1000:.2f} ms, "
            f"replies containing a secret: {leaks}"
        )


if __name__ == "__main__":
    main()
