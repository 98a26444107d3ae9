"""Telling reports of a problem from everything else (bot.triage.report and the engine).

The texts are written for these tests; none comes from an evaluation set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.triage import classifier
from bot.triage.engine import Triager
from bot.triage.report import FEATURE_NAMES, ReportModel, form_features
from bot.triage.types import Thread

ROOT = Path(__file__).resolve().parent.parent


def features(title: str, body: str) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES[1:], form_features(title, body, []), strict=True))


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("Voice agent", "The agent keeps talking after the caller interrupts it."),
        ("Turn never ends", "Since yesterday server VAD never closes the turn."),
        ("音声", "割り込んでもエージェントがずっと話し続けます。"),
        ("Agente de voz", "El agente no funciona: sigue hablando después de la interrupción."),
        ("Sprachagent", "Seit gestern funktioniert nicht mehr, die Antwort bricht plötzlich ab."),
        ("语音代理", "打断以后代理一直在说话，无法停止。"),
    ],
)
def test_problem_statements_are_read_in_several_languages(title: str, body: str) -> None:
    assert features(title, body)["problem_cues"] > 0


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("How to stream only the last step?", "Is there a way to stream only the final answer?"),
        ("Feature request: usage per key", "It would be great to export usage per API key."),
        ("功能请求", "### 您的功能请求是否与问题有关？\n希望支持按项目导出用量。"),
        ("¿Cómo limito el gasto?", "¿Es posible poner un tope mensual por proyecto?"),
    ],
)
def test_requests_and_questions_are_read_in_several_languages(title: str, body: str) -> None:
    f = features(title, body)
    assert f["request_cues"] > 0 or f["title_request"] > 0 or f["feature_template"] > 0


def test_saying_nothing_is_broken_is_no_problem_statement() -> None:
    calm = features("Retries", "What is the best practice for retries? Nothing is broken.")
    alarmed = features("Retries", "Retries are broken since the update.")
    assert calm["problem_cues"] == 0 and calm["request_cues"] > 0
    assert alarmed["problem_cues"] > 0


def test_report_model_round_trips_and_refuses_another_feature_set() -> None:
    model = ReportModel(tuple(float(i) for i in range(len(FEATURE_NAMES))), -1.0)
    assert ReportModel.from_json(json.loads(json.dumps(model.to_json()))) == model
    other = {**model.to_json(), "features": ["word_model_score"]}
    assert ReportModel.from_json(other) is None


def test_the_shipped_model_card_holds_the_stacker_and_its_no_text_cut() -> None:
    card = classifier.read_card(ROOT / "models")
    assert card is not None
    assert ReportModel.from_json(card.report_model) is not None
    assert 0.5 <= card.thresholds["_error"]["no_text_report"] <= 0.9


@pytest.fixture(scope="module")
def triager(tmp_path_factory: pytest.TempPathFactory) -> Triager:
    return Triager.from_dir(
        ROOT / "data", ROOT / "models", cache_dir=tmp_path_factory.mktemp("models")
    )


def decide(t: Triager, title: str, body: str):
    return t.decide(Thread("r", title, (body,)))


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "Agent talks over the caller",
            "Our phone agent keeps speaking for several seconds after the caller interrupts, "
            "even though we cancel the response. Expected it to stop at once; it never does.",
        ),
        (
            "Forced tool_choice gives a message item",
            "With tool_choice forced to our lookup function the response sometimes contains a "
            "plain message item instead of a function call. Started this week, no error.",
        ),
    ],
)
def test_behaviour_bugs_without_an_error_string_reach_staff(
    triager: Triager, title: str, body: str
) -> None:
    d = decide(triager, title, body)
    assert d.action in ("escalate", "review")
    assert d.action != "reply"


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "Does the Realtime session cap still apply after GA?",
            "Planning capacity for next quarter: is the maximum session length still an hour "
            "now that the API is GA? Not hitting anything, just asking.",
        ),
        (
            "Docs: explain when insufficient_quota is returned",
            "The error-codes page should say when insufficient_quota is sent instead of "
            "rate_limit_exceeded. A docs task, nothing is broken.",
        ),
    ],
)
def test_questions_and_docs_tasks_about_a_known_topic_are_left_alone(
    triager: Triager, title: str, body: str
) -> None:
    assert decide(triager, title, body).action == "ignore"


def test_a_relay_reusing_a_code_with_its_own_message_is_not_answered(triager: Triager) -> None:
    body = (
        "Our gateway returns this for every call since noon:\n```json\n"
        '{"error": {"message": "upstream channel pool saturated, try another node", '
        '"type": "relay_error", "code": "insufficient_quota"}}\n```'
    )
    d = decide(triager, "Gateway error on every call", body)
    assert d.action == "escalate" and d.issue is None
    assert any("quoted message is not insufficient_quota" in r for r in d.reasons)


def test_the_real_quota_message_is_still_answered(triager: Triager) -> None:
    body = (
        "Every call fails since this morning:\n```json\n"
        '{"error": {"message": "You exceeded your current quota, please check your plan and '
        'billing details.", "type": "insufficient_quota", "code": "insufficient_quota"}}\n```'
    )
    d = decide(triager, "429 on every call", body)
    assert (d.action, d.issue) == ("reply", "insufficient_quota")
