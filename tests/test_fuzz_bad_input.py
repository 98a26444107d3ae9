"""Generated malformed input for `triage`, the webhook endpoint and `issues add/import`.

Whatever the input, the answer is one `Error:` line per problem (never a traceback),
exit code 2 (the README's code for bad input) or a 4xx answer, and the database as
it was. Bounded example counts keep the whole file to a few seconds.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import cli
from bot.known_issues import STATUSES

FUZZ = settings(
    max_examples=30,
    deadline=None,
    # The same examples on every run: CI and a developer see the same cases.
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def dump(path: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [row for t in sorted(tables) for row in conn.execute(f"SELECT * FROM [{t}]")]
    finally:
        conn.close()


def assert_clean_failure(result) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("Error: ") for line in lines), result.stderr
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        result = CliRunner().invoke(cli, ["--db", str(path / "t.db"), "init"])
        assert result.exit_code == 0, result.output
        yield path


# ----------------------------------------------------------------- triage

bad_lines = st.one_of(
    # A blank line is skipped by design (JSONL allows it), so it is no bad input.
    st.binary(min_size=1, max_size=40)
    .map(lambda b: b.replace(b"\n", b" "))
    .filter(lambda b: b.decode("utf-8", "replace").strip() != ""),
    json_values.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"id": json_values, "title": json_values, "posts": json_values}
    ).filter(
        lambda d: not (
            isinstance(d["posts"], list) and all(isinstance(p, str) for p in d["posts"])
            and isinstance(d["id"], str | int | float) and d["id"] not in ("", None)
            and isinstance(d["title"], str | type(None))
        )
    ).map(lambda d: json.dumps(d).encode()),
    st.integers(1000, 200_000).map(lambda n: ('{"id": "x", "posts": ' + nested(n) + "}").encode()),
    st.integers(4301, 20_000).map(lambda n: ('{"id": ' + "7" * n + "}").encode()),
    st.just(b'{"id": "x", "posts": ["\xff\xfe"]}'),
)  # fmt: skip


@FUZZ
@given(good_before=st.integers(0, 2), bad=bad_lines)
def test_triage_rejects_malformed_lines_with_one_line_and_writes_nothing(workdir, good_before, bad):
    good = json.dumps({"id": "ok", "title": "t", "posts": ["hello"]}).encode()
    source = workdir / "in.jsonl"
    source.write_bytes(b"\n".join([good] * good_before + [bad]) + b"\n")
    out = workdir / "out.jsonl"
    out.unlink(missing_ok=True)
    result = CliRunner().invoke(
        cli, ["--db", str(workdir / "t.db"), "triage", "--input", str(source), "--output", str(out)]
    )
    assert_clean_failure(result)
    assert len(result.stderr.splitlines()) == 1
    assert "in.jsonl" in result.stderr
    assert not out.exists()


# ----------------------------------------------------------------- issues add / import

entry_fields = st.fixed_dictionaries(
    {},
    optional={
        "slug": json_values,
        "title": json_values,
        "status": json_values,
        "summary": json_values,
        "patterns": json_values,
        "misconceptions": json_values,
        "links": json_values,
        "examples": json_values,
    },
)
not_text = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(json_values, max_size=3),
    st.dictionaries(st.text(max_size=5), json_values, max_size=3),
)
not_list = st.one_of(
    st.integers(),
    st.booleans(),
    st.text(max_size=10),
    st.dictionaries(st.text(max_size=5), json_values, max_size=3),
)
# One field of a valid entry broken: a value of the wrong type, a status that is not one.
bad_pattern = st.one_of(
    st.integers(),
    st.booleans(),
    st.text(max_size=5),
    st.fixed_dictionaries(
        {
            "kind": st.text(max_size=8).filter(lambda k: k not in ("literal", "regex")),
            "value": st.just("FuzzError: it broke"),
        }
    ),
)
one_field_broken = st.one_of(
    st.tuples(st.sampled_from(["slug", "title", "status", "summary"]), not_text),
    st.tuples(st.sampled_from(["patterns", "links", "examples", "misconceptions"]), not_list),
    st.tuples(st.just("status"), st.text(max_size=12).filter(lambda v: v.strip() not in STATUSES)),
    # Patterns that are neither a mapping nor text, text under 6 characters, or of no known kind.
    st.tuples(st.just("patterns"), st.lists(bad_pattern, min_size=1, max_size=3)),
).map(lambda kv: yaml.safe_dump({**GOOD_ENTRY, kv[0]: kv[1]}).encode())
broken_entries = st.one_of(
    one_field_broken,
    # A random mapping; its status is never a real one, so it can never be a valid entry.
    entry_fields.map(lambda d: yaml.safe_dump({**d, "status": str(d.get("status")) + "?"}).encode()),
    st.binary(max_size=60),
    # Past the interpreter's recursion limit (1,000) is enough: PyYAML is pure Python.
    st.integers(200, 3_000).map(lambda n: ("slug: x\ntitle: " + nested(n) + "\n").encode()),
    st.just(b"slug: demo\n\xff\xfe not utf-8\n"),
    st.just(b"slug: demo\ndate: 2024-13-45\n"),
    st.sampled_from(["[a-z ]+", r"\w+ \w+", "(?:the|a) .{0,20}", "(a+)+$", "(unclosed"]).map(
        lambda p: yaml.safe_dump(
            {**GOOD_ENTRY, "patterns": [{"kind": "regex", "value": p}]}
        ).encode()
    ),
)  # fmt: skip

GOOD_ENTRY = {
    "slug": "fuzz_entry",
    "title": "Fuzz entry",
    "status": "investigating",
    "summary": "Something fails.",
    "patterns": [{"kind": "literal", "value": "FuzzError: it broke"}],
}


@FUZZ
@given(body=broken_entries)
def test_issues_add_rejects_broken_entries_and_saves_nothing(workdir, body):
    db = str(workdir / "t.db")
    before = dump(db)
    source = workdir / "fuzz_entry.yml"
    source.write_bytes(body)
    result = CliRunner().invoke(cli, ["--db", db, "issues", "add", str(source)])
    assert_clean_failure(result)
    assert len(result.stderr.splitlines()) == 1
    assert dump(db) == before


@FUZZ
@given(bodies=st.lists(broken_entries, min_size=1, max_size=3), valid=st.booleans())
def test_issues_import_reports_every_broken_file_and_imports_nothing(workdir, bodies, valid):
    db = str(workdir / "t.db")
    before = dump(db)
    directory = workdir / "import"
    directory.mkdir(exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    if valid:  # a good file among the bad ones is not imported either
        (directory / "fuzz_entry.yml").write_text(yaml.safe_dump(GOOD_ENTRY))
    for i, body in enumerate(bodies):
        (directory / f"bad_{i}.yml").write_bytes(body)
    result = CliRunner().invoke(cli, ["--db", db, "issues", "import", str(directory)])
    assert_clean_failure(result)
    for i in range(len(bodies)):
        assert f"bad_{i}.yml" in result.stderr
    assert dump(db) == before


# ----------------------------------------------------------------- the webhook endpoint

SECRET = "a-webhook-secret-of-length"

webhook_bodies = st.one_of(
    st.binary(max_size=80),
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps({"post": v}).encode()),
    st.integers(1000, 200_000).map(lambda n: ('{"post": ' + nested(n) + "}").encode()),
    st.integers(4301, 20_000).map(lambda n: ('{"post": {"id": ' + "1" * n + "}}").encode()),
)


@pytest.fixture(scope="module")
def hook_app():  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from starlette.applications import Starlette

    from bot.web.webhook import WebhookWorker, webhook_routes
    from tests.runner_support import make_forum, make_services, make_store

    with tempfile.TemporaryDirectory() as tmp:
        state = make_forum()
        store = make_store(Path(tmp))
        services = make_services(state, store)
        services.config = replace(services.config, webhook_secret=SECRET)
        worker = WebhookWorker(services)
        yield Starlette(routes=webhook_routes(services, worker)), store, worker
        store.close()
        state.close()


@FUZZ
@given(body=webhook_bodies, signed=st.booleans(), event=st.sampled_from(["post_created", "ping"]))
def test_webhook_answers_malformed_bodies_with_a_4xx_and_changes_nothing(
    hook_app, body, signed, event
):
    import asyncio

    import httpx

    from bot.discourse.webhooks import sign

    app, store, worker = hook_app
    headers = {"X-Discourse-Event": event, "Content-Type": "application/json"}
    if signed:
        headers["X-Discourse-Event-Signature"] = sign(body, SECRET)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
            response = await http.post("/webhooks/discourse", content=body, headers=headers)
        await worker.drain()
        return response

    before = dump(store.path)
    response = asyncio.run(go())
    assert response.status_code != 500, response.text
    assert response.headers["content-type"] == "application/json"
    if response.status_code >= 400:
        assert response.status_code in (400, 403, 413)
        assert isinstance(response.json()["error"], str)
        assert dump(store.path) == before
    else:
        # Only a delivery that parsed as a post may be recorded; none may fail.
        assert worker.errors == 0
