"""Telling reports of a problem from everything else (bot.triage.report and the engine).

The texts are written for these tests; none comes from an evaluation set.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import patterns
from bot.triage import classifier, report
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
        ("Esportazione", "Da lunedì l'esportazione si blocca e il file risulta vuoto."),
        ("Export", "Le fichier exporté est vide et les lignes de la veille ont disparu."),
        ("Eksport", "Od wczoraj eksport nie działa, plik jest pusty."),
        ("Dışa aktarma", "Dışa aktarma dosyası boş geliyor, satırlar eksik."),
        ("Ekspor", "Sejak kemarin ekspor gagal dan filenya kosong."),
        ("Экспорт", "Экспорт висит уже час, часть строк пропала."),
        ("导出", "设置了参数但是不生效，导出的文件缺失一半。"),
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
    # The draft bar for posts that quote nothing, chosen on files held out whole.
    assert 0.6 <= card.thresholds["_error"]["no_text_review"] <= 0.8


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


@pytest.mark.parametrize(
    ("title", "body", "feature"),
    [
        ("Replies", "It used to work; since the update every answer is cut.", "change_cues"),
        ("Réponses", "Depuis hier, les réponses sont coupées.", "change_cues"),
        ("応答", "昨日から応答が途中で切れます。", "change_cues"),
        ("Tools", "About 1 in 30 calls returns no tool call.", "frequency_cues"),
        ("Werkzeuge", "Manchmal kommt kein Funktionsaufruf zurück.", "frequency_cues"),
        ("Limits", "Planning a backfill; we haven't tried it yet.", "plan_cues"),
        ("限额", "我们在规划容量，还没有上线。", "plan_cues"),
    ],
)
def test_change_frequency_and_planning_are_read_in_several_languages(
    title: str, body: str, feature: str
) -> None:
    assert features(title, body)[feature] > 0


def test_a_bare_no_error_is_not_calm_but_nothing_broken_is() -> None:
    # Behaviour bugs say "no error" as often as questions do.
    assert (
        features("Strict schema", "The field is missing. No error, status completed.")["calm_cues"]
        == 0
    )
    assert features("Retries", "Nothing is broken, just asking about retries.")["calm_cues"] > 0


def test_like_and_that_are_not_question_words() -> None:
    # German "wie" and Spanish "como"/"que" are also "like", "as" and "that".
    assert features("Stimme klingt wie ein Roboter", "Seit gestern verzerrt.")["title_request"] == 0
    assert features("Audio", "Llega como cadena vacía, que no es null.")["request_cues"] == 0
    assert features("¿Cómo limito el gasto?", "")["title_request"] > 0


def test_a_bare_code_in_backticks_is_told_from_a_quoted_message() -> None:
    from bot.triage.extract import extract_errors

    def bare(text: str) -> float:
        f = form_features("t", text, extract_errors(text))
        return dict(zip(FEATURE_NAMES[1:], f, strict=True))["bare_code_quotes"]

    assert bare("Is `insufficient_quota` always a 429?") == 1.0
    assert bare("Every call: `You exceeded your current quota, please check your plan.`") == 0.0


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("[功能请求] 自动重试", "希望 SDK 自动重试。"),
        ("【機能要望】通知", "通知がほしいです。"),
        ("[Sugestão] saldo", "Um endpoint de saldo."),
        ("Retries", "**Is your feature request related to a problem?**\nWe retry by hand."),
    ],
)
def test_feature_requests_are_recognised_in_several_languages(title: str, body: str) -> None:
    from bot.triage.report import feature_shaped

    assert feature_shaped(title, body)
    assert not feature_shaped("Retries fail since noon", "Every call fails since noon.")


def test_a_feature_template_quoting_an_error_is_not_answered(triager: Triager) -> None:
    body = (
        "### 您的功能请求是否与问题有关？\n出现 `Rate limit reached for gpt-4o in organization "
        "org-x on tokens per min (TPM): Limit 30000, Used 30000, Requested 900.` 时只能手动重试。"
        "\n\n### 描述您想要的解决方案\n希望 SDK 自带排队。"
    )
    d = decide(triager, "[功能请求] 限流时自动排队", body)
    assert (d.action, d.issue) == ("ignore", None)
    assert "feature request" in d.reasons


def test_a_question_naming_a_code_in_backticks_is_left_alone(triager: Triager) -> None:
    body = "Writing our handler: does `insufficient_quota` only come with 429? Nothing is failing."
    d = decide(triager, "Which status goes with insufficient_quota?", body)
    assert (d.action, d.issue) == ("ignore", None)


def test_a_post_that_negates_the_entrys_field_is_not_answered_with_it(triager: Triager) -> None:
    body = (
        "Answers from o3 stop after a few lines. The response has finish_reason 'stop' and "
        "reasoning_tokens around 700, far from the cap. Same prompts were complete last week."
    )
    d = decide(triager, "Replies cut short without finish_reason length", body)
    assert d.action == "escalate" and d.issue is None
    assert any("signature is absent" in r for r in d.reasons)


def test_a_proxy_quoting_an_entry_code_with_its_own_message_is_escalated(triager: Triager) -> None:
    body = (
        "Our proxy answers:\n```json\n"
        '{"error": {"message": "no healthy upstream for this group, cooling down", '
        '"type": "proxy_error", "code": "model_not_found"}}\n```\nDirect calls work.'
    )
    d = decide(triager, "Proxy error on every call", body)
    assert d.action == "escalate" and d.issue is None


def test_a_chatgpt_sign_in_scope_error_is_not_the_restricted_key_issue(triager: Triager) -> None:
    body = (
        "Signed in with ChatGPT in our coding agent, every call fails: `Missing scopes: "
        "api.responses.write`. We never made a restricted key."
    )
    d = decide(triager, "Missing scopes after sign-in", body)
    assert d.action != "reply" and d.issue != "restricted_key_missing_scopes"


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("Embeddings very slow", "Each call takes 8 seconds today, usually 300 ms."),
        ("函数调用重复", "每个函数调用都会出现两次，参数一样。"),
        ("Appels en double", "Chaque appel de fonction arrive en double."),
        ("Ответ не тот", "Модель отвечает не на тот вопрос."),
    ],
)
def test_short_symptom_statements_count_as_problems(title: str, body: str) -> None:
    assert features(title, body)["problem_cues"] > 0


def test_a_solved_tip_quoting_a_known_message_gets_no_public_answer(triager: Triager) -> None:
    body = (
        "For anyone searching later: our `Incorrect API key provided: sk-proj-****` errors "
        "came from quotes around the key in the compose file. Removing them fixed it. "
        "Marking solved, thanks all."
    )
    d = decide(triager, "Solved: the invalid key was the quotes", body)
    assert d.action != "reply"


def test_a_message_with_the_entrys_words_in_another_order_is_not_the_entrys(
    triager: Triager,
) -> None:
    # "exceeds" and "limit" are the entry's words, but no phrase of it is.
    body = (
        'Our edge proxy answers `{"code": "context_length_exceeded", "message": '
        '"upload body exceeds proxy limit of 2 MB"}` for a 20k-token prompt.'
    )
    d = decide(triager, "Proxy rejects long prompts", body)
    assert d.action == "escalate" and d.issue is None
    real = (
        'Every long chat fails: `{"code": "context_length_exceeded", "message": "This '
        "model's maximum context length is 128000 tokens. However, your messages resulted in "
        '130001 tokens."}`'
    )
    assert decide(triager, "Long chats fail", real).issue == "context_length_exceeded"


def _cue_pieces() -> list[str]:
    found = {" ", "  ", "\n", "\n  ", ".", ",", "'", "-", "?", "？", "¿", "%", "#", "x", "é"}
    found |= {"1", "20", "3.5", "_", "ß", "İ", "ſ", "K", "中", "ё", "가", "の", "a", "n"}
    for _, source in (*report._LATIN_CUES, *report._WIDE_CUES):
        for run in patterns.literal_runs(re.compile(source)):
            for piece in (run, run.upper(), run.title(), run[: len(run) // 2], run[1:]):
                found.add(piece)
    return sorted(found)


# Whole cue phrases, drawn from the cue sets themselves in every script they read, mixed
# with their words, halves and other cases, and noise; the mix is read as written or
# in another case.
_PHRASE = st.one_of(
    *(
        st.from_regex(re.compile(source, re.MULTILINE), fullmatch=True)
        for _, source in (*report._LATIN_CUES, *report._WIDE_CUES)
    )
)
_CUE_TEXT = st.tuples(
    st.lists(st.one_of(_PHRASE, st.sampled_from(_cue_pieces())), max_size=12).map("".join),
    st.sampled_from([str, str.lower, str.upper, str.title]),
).map(lambda pair: pair[1](pair[0]))


def _plain_cues(text: str, wide: bool) -> dict[str, int]:
    counts = dict.fromkeys(("calm", "plan", "request", "change", "frequency", "problem", "did"), 0)
    for rx in (
        (report.plain_scan(False), report.plain_scan(True)) if wide else (report.plain_scan(False),)
    ):
        for m in rx.finditer(text):
            counts[m.lastgroup or "problem"] += 1
    return counts


def test_the_cue_scans_are_gated() -> None:
    assert report._SCAN_LATIN.pattern.startswith("(?=")
    assert report._SCAN_WIDE.pattern.startswith("(?=")


@settings(max_examples=1000, deadline=None)
@given(_CUE_TEXT)
def test_the_gated_cue_scans_find_what_the_plain_alternations_do(text: str) -> None:
    for fast, plain in (
        (report._SCAN_LATIN, report.plain_scan(False)),
        (report._SCAN_WIDE, report.plain_scan(True)),
    ):
        got = [(m.span(), m.lastgroup) for m in fast.finditer(text)]
        assert got == [(m.span(), m.lastgroup) for m in plain.finditer(text)]
    wide = not text.isascii()
    assert report._cues(text, wide) == _plain_cues(text, wide)


_LOG_LINES = {
    "invalid_api_key": "openai.AuthenticationError: Error code: 401 - {'error': {'message': "
    "'Incorrect API key provided: sk-proj-****abcd.', 'code': 'invalid_api_key'}}",
    "rate_limit_exceeded": "openai.RateLimitError: Error code: 429 - {'error': {'message': "
    "'Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit "
    "30000, Used 29000, Requested 2000.', 'code': 'rate_limit_exceeded'}}",
    "insufficient_quota": "openai.RateLimitError: Error code: 429 - {'error': {'message': "
    "'You exceeded your current quota, please check your plan and billing details.', "
    "'code': 'insufficient_quota'}}",
}


def test_the_errors_of_three_known_issues_get_no_public_answer(triager: Triager) -> None:
    body = "The worker log from last night:\n```\n" + "\n".join(_LOG_LINES.values()) + "\n```"
    d = decide(triager, "Worker failing overnight", body)
    assert d.action == "review"  # a digest or a mixed log: staff choose the answer
    assert any(r.startswith("errors of 3 known issues quoted") for r in d.reasons)
    # One of them alone is answered as usual.
    one = "The worker log from last night:\n```\n" + _LOG_LINES["invalid_api_key"] + "\n```"
    single = decide(triager, "Worker failing overnight", one)
    assert (single.action, single.issue) == ("reply", "invalid_api_key")


def test_the_same_message_about_another_parameter_is_only_a_draft(triager: Triager) -> None:
    def error(name: str) -> str:
        return (
            "Moved our batch job to o4-mini and every call now fails with a 400:\n```\n"
            f"openai.BadRequestError: Error code: 400 - {{'error': {{'message': \"Unsupported "
            f"parameter: '{name}' is not supported with this model.\", 'type': "
            f"'invalid_request_error', 'param': '{name}', 'code': 'unsupported_parameter'}}}}\n```"
        )

    other = decide(triager, "400 after switching to o4-mini", error("top_logprobs"))
    assert other.action == "review"
    assert any(r.startswith("quoted name top_logprobs") for r in other.reasons)
    same = decide(triager, "400 after switching to o4-mini", error("max_tokens"))
    assert (same.action, same.issue) == ("reply", "unsupported_param_max_tokens")


def test_a_guide_quoting_the_error_is_left_alone(triager: Triager) -> None:
    post = (
        "A short guide for newcomers, since the question comes up every week. Nothing is broken "
        "on my side. When the API answers `You exceeded your current quota, please check your "
        "plan and billing details`, retrying will not help: add credit on the billing page of "
        "the organization the key belongs to. Hope this helps!"
    )
    d = decide(triager, "Guide: what the quota message means", post)
    assert d.action == "ignore"
    assert "reads as no error report" in d.reasons


def test_only_a_post_long_enough_to_read_is_left_alone_on_the_detector_alone(
    triager: Triager,
) -> None:
    """The policy given the same quoted error and a detector sure it is no report: a
    long post is left alone, a two-line one is still drafted for staff."""
    quote = "`You exceeded your current quota, please check your plan and billing details`"
    long_post = f"Notes from our onboarding doc, shared as is. The message {quote} " + (
        "means the organization has no credit left; adding credit fixes it. " * 4
    )
    short_post = f"Since this morning every call: {quote}. What now?"
    for body, action in ((long_post, "ignore"), (short_post, "review")):
        prep = triager._prepare(Thread("r", "Quota message", (body,)))
        row = np.zeros(len(triager.model.classes))
        row[triager.model.classes.index("insufficient_quota")] = 0.9
        ruling = triager._policy.rule(prep, row, 0.05)
        assert ruling.action == action, body
        assert "reads as no error report" in ruling.reasons
