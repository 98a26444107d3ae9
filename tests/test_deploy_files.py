"""The container and service files: nothing is built here, but each file is checked.

The Dockerfile gets a small hadolint-style lint (and hadolint itself when it is
installed); compose.yaml and the systemd unit are parsed; every `TRIAGEBOT_*`
variable that they or the README mention must be one the configuration reads.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.config import SECRET_KEYS, Config
from bot.data_cache import CACHE_ENV

ROOT = Path(__file__).resolve().parent.parent
ENV_NAME = re.compile(r"\bTRIAGEBOT_[A-Z0-9_]+\b")
# Read outside Config: the config file's path, and the log format (a click envvar).
EXTRA_ENV = {"TRIAGEBOT_CONFIG", "TRIAGEBOT_LOG_FORMAT", CACHE_ENV}


def known_env() -> set[str]:
    names = {
        f"TRIAGEBOT_{f.name.upper()}" for f in dataclasses.fields(Config) if f.name != "source"
    }
    names |= {f"TRIAGEBOT_{k.upper()}_FILE" for k in SECRET_KEYS}
    return names | EXTRA_ENV


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def lint_dockerfile(text: str) -> list[str]:
    """The hadolint rules that matter for this image (DL codes where hadolint has one)."""
    problems = []
    ins = _instructions(text)
    for word, args in ins:
        if word == "FROM":
            image = args.split()[0]
            if ":" not in image or image.endswith(":latest"):
                problems.append(f"DL3006/DL3007: pin the base image tag: {image}")
        if word == "ADD":
            problems.append("DL3020: use COPY instead of ADD")
        if word == "RUN":
            if "apt-get install" in args and "--no-install-recommends" not in args:
                problems.append("DL3015: apt-get install without --no-install-recommends")
            if "pip install" in args and "--no-cache-dir" not in args:
                problems.append("DL3042: pip install without --no-cache-dir")
            if re.search(r"\bsudo\b", args):
                problems.append("DL3004: do not use sudo")
            if re.search(r"(^|&&|;)\s*cd\s", args):
                problems.append("DL3003: use WORKDIR instead of cd")
        if word == "WORKDIR" and not args.startswith("/"):
            problems.append(f"DL3000: WORKDIR must be absolute: {args}")
        if word in ("CMD", "ENTRYPOINT"):
            try:
                json.loads(args)
            except ValueError:
                problems.append(f"DL3025: use the JSON form for {word}")
    final = ins[max(i for i, (w, _) in enumerate(ins) if w == "FROM") :]
    users = [a for w, a in final if w == "USER"]
    if not users or users[-1] in ("root", "0"):
        problems.append("DL3002: the final stage must run as a non-root USER")
    if not any(w == "HEALTHCHECK" for w, _ in final):
        problems.append("the final stage needs a HEALTHCHECK")
    return problems


def test_dockerfile_lints_clean():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert lint_dockerfile(text) == []


def test_the_lint_catches_what_it_claims():
    bad = "FROM python\nADD . /src\nRUN cd /src && pip install .\nCMD triagebot serve\n"
    found = " ".join(lint_dockerfile(bad))
    for code in ("DL3006", "DL3020", "DL3042", "DL3003", "DL3025", "DL3002", "HEALTHCHECK"):
        assert code in found


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint is not installed")
def test_hadolint_when_available():
    result = subprocess.run(
        ["hadolint", str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_shape():
    ins = _instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    froms = [a for w, a in ins if w == "FROM"]
    assert all(f.startswith("python:3.11-slim") for f in froms)
    runs = " ".join(a for w, a in ins if w == "RUN")
    assert "triagebot train --models-dir /opt/triagebot/models" in runs  # at build time
    [health] = [a for w, a in ins if w == "HEALTHCHECK"]
    assert "/healthz" in health
    env = " ".join(a for w, a in ins if w == "ENV")
    assert "TRIAGEBOT_MODELS_DIR=/opt/triagebot/models" in env
    assert "TRIAGEBOT_DB_PATH=/data/triagebot.db" in env
    assert json.loads(dict(ins)["ENTRYPOINT"]) == ["triagebot"]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored and "*.db" in ignored


def test_compose_has_the_bot_and_a_volume_for_its_database():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    bot = compose["services"]["triagebot"]
    assert bot["command"][0] == "serve"
    volume = next(v for v in bot["volumes"] if v.endswith(":/data"))
    assert volume.split(":")[0] in compose["volumes"]
    assert bot["environment"]["TRIAGEBOT_DB_PATH"].startswith("/data/")
    assert set(bot["environment"]) <= known_env()
    for name in bot["secrets"]:
        assert name in compose["secrets"]
    assert not any("SECRET=" in str(v) or "API_KEY=" in str(v) for v in bot["environment"])
    init = compose["services"]["init"]
    assert init["command"] == ["init"]
    assert bot["depends_on"]["init"]["condition"] == "service_completed_successfully"


def _unit(path: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_systemd_unit():
    unit = _unit(ROOT / "deploy" / "triagebot.service")
    assert unit["DynamicUser"] == ["yes"] or "User" in unit
    assert any("triagebot serve" in v for v in unit["ExecStart"])
    assert any(v.endswith("triagebot init") for v in unit["ExecStartPre"])
    assert unit["RestartPreventExitStatus"] == ["2"]  # a permanent start-up failure
    names = {v.split("=", 1)[0] for v in unit["Environment"]}
    assert names <= known_env()


@pytest.mark.parametrize(
    "path", ["README.md", "Dockerfile", "compose.yaml", "deploy/triagebot.service"]
)
def test_documented_environment_variables_exist(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    mentioned = set(ENV_NAME.findall(text)) - {"TRIAGEBOT_"}
    unknown = sorted(n for n in mentioned if n not in known_env() and not n.endswith("_"))
    assert unknown == [], f"{path} mentions settings the config does not read: {unknown}"
