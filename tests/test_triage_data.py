"""Training-data loader tests, plus the tiny fixture data set the other triage tests share.

The fixture issues and examples are invented for the tests (three issues, a few
novel errors and non-error posts); they are small enough to train on in about a
second.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.known_issues import validate_entry
from bot.triage.training_data import (
    TrainingDataError,
    data_hash,
    issues_hash,
    load_training_dir,
    load_training_file,
)

ISSUES = [
    {
        "slug": "quota_exceeded",
        "title": "Requests fail with 'You exceeded your current quota'",
        "status": "expected_behaviour",
        "summary": "Calls fail with 429 insufficient_quota when the account has no credit left.",
        "workaround": "Add credit on the billing page and wait a few minutes.",
        "patterns": [
            {"kind": "literal", "value": "You exceeded your current quota"},
            {"kind": "regex", "value": r"\binsufficient_quota\b"},
        ],
        "examples": [
            "Every call returns 429: You exceeded your current quota, please check your plan.",
            "Got insufficient_quota even though I just created the key",
        ],
    },
    {
        "slug": "max_tokens_unsupported",
        "title": "'max_tokens' is not supported with reasoning models",
        "status": "workaround",
        "summary": "Reasoning models reject max_tokens; use max_completion_tokens instead.",
        "workaround": "Send `max_completion_tokens` instead of `max_tokens`.",
        "patterns": [
            {
                "kind": "regex",
                "value": r"'max_tokens' is not supported with this model",
            }
        ],
        "examples": [
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            "switching to the new model breaks my code, it complains about max_tokens not "
            "being supported and tells me to use max_completion_tokens",
        ],
    },
    {
        "slug": "thread_run_active",
        "title": "Cannot add messages to a thread while a run is active",
        "status": "identified",
        "summary": "Adding a message to an Assistants thread with an active run fails.",
        "workaround": "Wait for the run to finish or cancel it before adding messages.",
        "patterns": [
            {
                "kind": "regex",
                "value": r"Can't add messages to thread_\w+ while a run run_\w+ is active",
            }
        ],
        "examples": [
            "Can't add messages to thread_abc123 while a run run_def456 is active. How do I wait?",
            "assistants api: adding a message to my thread fails because a run is still active",
        ],
    },
]

TRAINING: dict[str, list[dict[str, object]]] = {
    "quota_exceeded": [
        {
            "title": "429 on every request",
            "text": "openai.RateLimitError: Error code: 429 - "
            "{'error': {'message': 'You exceeded your current quota', 'code': 'insufficient_quota'}}",
        },
        {
            "title": "Quota error with new account",
            "text": "New account, paid $5, still the "
            "quota exceeded error with code insufficient_quota. Billing shows credit.",
        },
        {
            "title": "billing quota problem",
            "text": "My credit balance ran out and now the api "
            "says I exceeded my quota. How long after paying does it work?",
        },
        {
            "title": "insufficient quota",
            "text": '```\n{"error": {"message": "You exceeded '
            'your current quota, please check your plan and billing details.", "type": '
            '"insufficient_quota"}}\n```',
        },
    ],
    "max_tokens_unsupported": [
        {
            "title": "o1 rejects max_tokens",
            "text": "BadRequestError: Error code: 400 - "
            "Unsupported parameter: 'max_tokens' is not supported with this model.",
        },
        {
            "title": "max_completion_tokens vs max_tokens",
            "text": "The reasoning model refuses "
            "max_tokens, says to use max_completion_tokens instead. Which one counts reasoning?",
        },
        {
            "title": "Unsupported parameter error",
            "text": "Getting `Unsupported parameter: "
            "'max_tokens'` after changing the model name in my config.",
        },
    ],
    "thread_run_active": [
        {
            "title": "Run is active error",
            "text": "Error: 400 Can't add messages to "
            "thread_XyZ987 while a run run_Qwe123 is active.",
        },
        {
            "title": "Assistants thread locked",
            "text": "When the user sends a second message "
            "quickly the thread is locked because the previous run is still active.",
        },
        {
            "title": "active run blocks new message",
            "text": "How do I queue messages while a "
            "run is active on the thread? The API rejects the new message.",
        },
    ],
    "novel": [
        {
            "title": "Embeddings endpoint returns NaN",
            "text": "Some vectors from the "
            "embeddings endpoint come back as NaN values. Error: ValueError: array contains NaN",
        },
        {
            "title": "TypeError in streaming helper",
            "text": "```\nTypeError: Cannot read "
            "properties of undefined (reading 'delta')\n    at stream.js:10:5\n```",
        },
        {
            "title": "Fine-tune job failed",
            "text": "My fine-tuning job failed with error: "
            "training file has invalid format on line 12.",
        },
        {
            "title": "Batch API stuck in validating",
            "text": "Error: batch stays in validating status forever and then expires.",
        },
        {
            "title": "pydantic parse crash",
            "text": "pydantic_core.ValidationError: 1 validation error for Answer field required",
        },
    ],
    "not_error": [
        {
            "title": "Best model for summarising?",
            "text": "Which model would you recommend "
            "for summarising long meeting notes? Looking for ideas.",
        },
        {
            "title": "Show and tell: my chess bot",
            "text": "I built a small chess tutor with "
            "the API and wanted to share it. Feedback welcome!",
        },
        {
            "title": "How do I count tokens?",
            "text": "Is there a library to count tokens "
            "before sending a prompt? I want to estimate cost.",
        },
        {
            "title": "Feature request: dark mode",
            "text": "It would be great if the playground had a dark mode. Thanks for considering.",
        },
        {
            "title": "Tips for prompt design",
            "text": "Sharing a few prompt patterns that "
            "worked well for us when writing product descriptions.",
        },
    ],
}


def make_data_dir(root: Path) -> Path:
    """Write the fixture issues and training files under root/known_issues, root/training."""
    (root / "known_issues").mkdir(parents=True, exist_ok=True)
    (root / "training").mkdir(parents=True, exist_ok=True)
    for entry in ISSUES:
        validate_entry(entry)  # the fixture itself must be a valid entry
        (root / "known_issues" / f"{entry['slug']}.yml").write_text(yaml.safe_dump(entry))
    for label, items in TRAINING.items():
        (root / "training" / f"{label}.yml").write_text(yaml.safe_dump(items))
    return root


def test_loader_reads_every_label(tmp_path: Path) -> None:
    make_data_dir(tmp_path)
    examples = load_training_dir(tmp_path / "training")
    labels = {e.label for e in examples}
    assert labels == set(TRAINING)
    assert len(examples) == sum(len(v) for v in TRAINING.values())
    assert all(e.text for e in examples)


def test_loader_accepts_later_posts_and_plain_strings(tmp_path: Path) -> None:
    path = tmp_path / "novel.yml"
    path.write_text(
        yaml.safe_dump(
            [
                {"title": "t", "text": "Error: boom", "later_posts": ["same here"]},
                "Error: a bare string example",
            ]
        )
    )
    examples = load_training_file(path)
    assert examples[0].later_posts == ("same here",)
    assert examples[1].text == "Error: a bare string example"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("novel.yml", "{a: 1}", "must be a YAML list"),
        ("novel.yml", "- 42\n", "item 1: must be a mapping"),
        ("novel.yml", "- {title: '', text: ''}\n", "item 1: needs a title or a text"),
        ("novel.yml", "- {text: x, later_posts: 3}\n", "later_posts must be a list"),
        ("Bad-Name.yml", "- {text: x}\n", "file name must be"),
        ("novel.yml", "- [unclosed\n", "not valid YAML"),
    ],
)
def test_loader_rejects_bad_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(TrainingDataError, match=message) as info:
        load_training_file(path)
    assert name in str(info.value)


def test_data_hash_changes_with_content_only(tmp_path: Path) -> None:
    make_data_dir(tmp_path)
    issues = [validate_entry(e) for e in ISSUES]
    examples = load_training_dir(tmp_path / "training")
    h = data_hash(issues, examples)
    assert data_hash(list(reversed(issues)), list(reversed(examples))) == h
    stamped = validate_entry({**ISSUES[0], "updated_by": "someone", "updated_at": "2026-01-01"})
    assert data_hash([stamped, *issues[1:]], examples) == h
    edited = validate_entry({**ISSUES[0], "summary": "A different summary."})
    assert data_hash([edited, *issues[1:]], examples) != h
    assert data_hash(issues, examples[1:]) != h


def test_data_hash_ignores_fields_the_model_does_not_learn_from(tmp_path: Path) -> None:
    make_data_dir(tmp_path)
    issues = [validate_entry(e) for e in ISSUES]
    examples = load_training_dir(tmp_path / "training")
    h = data_hash(issues, examples)
    replies_only = validate_entry(
        {**ISSUES[0], "status": "fixed", "workaround": "Upgrade to the fixed SDK."}
    )
    assert data_hash([replies_only, *issues[1:]], examples) == h
    # ... but a triager built from the old entries answers with stale text.
    assert issues_hash([replies_only, *issues[1:]]) != issues_hash(issues)
    for field, value in (("title", "Renamed"), ("examples", ["Error: quota gremlin"])):
        edited = validate_entry({**ISSUES[0], field: value})
        assert data_hash([edited, *issues[1:]], examples) != h, field
