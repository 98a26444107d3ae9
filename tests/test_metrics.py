"""/metrics: Prometheus text format, scraped over the bot's ASGI app while the demo runs."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.commands.bot_cmds import build_asgi
from bot.config import Config
from bot.forum_sim.server import serve
from bot.runner import demo as demo_lib
from bot.runner.services import build_services
from bot.triage.engine import Triager

pytestmark = pytest.mark.e2e


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def _scrape(app) -> httpx.Response:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
        return await http.get("/metrics")


def test_metrics_move_with_the_demo(tmp_path):
    base = Config()
    state, _rows, _topics, key = demo_lib.make_forum(demo_lib.default_threads_path(base))
    db = str(tmp_path / "demo.db")
    store = demo_lib.prepare_store(db, base)
    with serve(state) as url:
        config = replace(
            demo_lib.demo_config(
                base, forum_url=url, api_key=key, db_path=db, webhook_secret=demo_lib.new_secret()
            ),
            rate_limit_per_min=100_000,
        )
        services = build_services(config, store, triager=Triager(store.list_issues(), None, config))
        app, _worker, _ = build_asgi(services)

        async def go():  # type: ignore[no-untyped-def]
            before = await _scrape(app)
            await demo_lib.run_until_decided(services, state)
            after = await _scrape(app)
            await services.aclose()
            return before, after

        before, after = asyncio.run(go())
    store.close()
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain; version=0.0.4")
    b, a = _samples(before.text), _samples(after.text)
    assert b.get(("triagebot_replies_posted_total", ()), 0) == 0
    assert a[("triagebot_replies_posted_total", ())] > 0
    assert a[("triagebot_decisions_total", (("action", "reply"),))] > 0
    assert sum(v for (n, _), v in a.items() if n == "triagebot_decisions_total") >= 20
    assert a[("triagebot_corrections_total", ())] >= 1  # the pasted GPT advice is corrected
    assert a[("triagebot_open_clusters", ())] >= 1
    assert ("triagebot_drafts_waiting", ()) in a
    assert a[("triagebot_forum_requests_total", ())] > b[("triagebot_forum_requests_total", ())]
    assert ("triagebot_forum_rate_limited_total", ()) in a
    assert a[("triagebot_triage_seconds_count", ())] >= 20
    assert b[("triagebot_triage_seconds_count", ())] == 0


def test_each_bot_has_its_own_registry(tmp_path):
    from tests.runner_support import make_forum, make_services, make_store

    state = make_forum()
    one = make_services(state, make_store(tmp_path))
    with one.metrics.time_triage():
        pass
    (tmp_path / "two").mkdir()
    two = make_services(state, make_store(tmp_path / "two"))
    assert one.metrics.registry is not two.metrics.registry
    assert two.metrics.registry.get_sample_value("triagebot_triage_seconds_count") == 0
    assert one.metrics.registry.get_sample_value("triagebot_triage_seconds_count") == 1
