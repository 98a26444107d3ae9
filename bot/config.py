"""Configuration: `triagebot.toml`, then `TRIAGEBOT_*` environment variables.

Precedence (lowest to highest): built-in defaults < toml file < environment.
Secrets (API key, webhook secret, DiscourseConnect secret, session secret) are
never read from the toml file itself: only from the environment or from a file
whose *path* the toml names (`api_key_file = "/run/secrets/key"`), so a config
file can be committed or shown without leaking anything.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.errors import UserError

MODES = ("auto", "review", "dry-run")
# What `triagebot check` checks for: the full server, or the polling runner only.
PURPOSES = ("serve", "run")
# Where drafts wait for staff besides the dashboard: nowhere else, a staff-only
# whisper in the topic, or a flag that puts the post in Discourse's review queue.
REVIEW_CHANNELS = ("dashboard", "whisper", "flag")
SECRET_KEYS = ("api_key", "webhook_secret", "sso_secret", "session_secret")
DEFAULT_CONFIG_FILE = "triagebot.toml"


class ConfigError(UserError):
    """A bad configuration value; the message names the key."""


@dataclass(frozen=True)
class Config:
    db_path: str = "triagebot.db"
    data_dir: str = ""  # empty: the packaged data/ directory
    models_dir: str = ""  # empty: the packaged models/ directory
    # Forum connection
    forum_url: str = ""
    api_username: str = "triagebot"
    api_key: str = ""
    webhook_secret: str = ""
    # Behaviour
    mode: str = "review"  # a new configuration never posts on its own
    answer_staff: bool = False
    excluded_categories: tuple[int, ...] = ()
    bot_usernames: tuple[str, ...] = ()  # other bots whose posts are skipped
    max_posts_per_hour: int = 30
    poll_interval: float = 30.0
    rate_limit_per_min: int = 60
    concurrency: int = 4
    staff_group: str = "staff"
    escalation_category: int = 0  # 0: escalate by private message to staff_group
    escalation_sizes: tuple[int, ...] = (3, 10, 25)
    followup_per_hour: int = 20
    review_channel: str = "dashboard"
    # Dashboard / DiscourseConnect
    public_url: str = "http://127.0.0.1:8080"
    sso_secret: str = ""
    session_secret: str = ""
    dashboard_groups: tuple[str, ...] = ()
    # Loaded from
    source: str = field(default="defaults", compare=False)

    def masked(self) -> dict[str, Any]:
        """The config as a dict with every secret masked, for display."""
        out = dataclasses.asdict(self)
        for key in SECRET_KEYS:
            out[key] = mask_secret(out[key])
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out

    def resolved_data_dir(self) -> Path:
        return Path(self.data_dir) if self.data_dir else default_data_dir()

    def resolved_models_dir(self) -> Path:
        return Path(self.models_dir) if self.models_dir else default_models_dir()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # A JSON string is a valid TOML basic string (same quotes and escapes).
    return json.dumps(str(value), ensure_ascii=False)


def to_toml(masked: dict[str, Any]) -> str:
    """`config show`: the settings as a TOML file that `load_config` reads back.

    Secrets are never read from the file, so they appear (masked) as comments;
    where the configuration came from is a comment too.
    """
    lines = [f"# loaded from: {masked.get('source', 'defaults')}"]
    for key, value in masked.items():
        if key == "source":
            continue
        line = f"{key} = {_toml_value(value)}"
        if key in SECRET_KEYS:
            line = f"# {line}  (secret: set TRIAGEBOT_{key.upper()} or {key}_file)"
        lines.append(line)
    return "\n".join(lines) + "\n"


def mask_secret(value: str) -> str:
    if not value:
        return ""
    return "****" + (value[-2:] if len(value) >= 16 else "")


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    packaged = Path(__file__).resolve().parent / "_data"
    return packaged if packaged.is_dir() else project_root() / "data"


def default_models_dir() -> Path:
    return project_root() / "models"


_FIELDS = {f.name: f for f in dataclasses.fields(Config) if f.name != "source"}


def _coerce(key: str, value: Any) -> Any:
    default = _FIELDS[key].default
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"expected true or false, got {value!r}")
        if isinstance(default, int):
            if isinstance(value, bool) or not _is_whole(value):
                raise ValueError(f"expected a whole number, got {value!r}")
            number = int(value)
            if number < 0:
                raise ValueError("must not be negative")
            return number
        if isinstance(default, float):
            if isinstance(value, bool) or not _is_number(value):
                raise ValueError(f"expected a number, got {value!r}")
            real = float(value)
            if real <= 0:
                raise ValueError("must be positive")
            return real
        if isinstance(default, tuple):
            items = value.split(",") if isinstance(value, str) else list(value)
            items = [i.strip() if isinstance(i, str) else i for i in items]
            items = [i for i in items if i != ""]
            if key in ("excluded_categories", "escalation_sizes"):
                bad = [i for i in items if isinstance(i, bool) or not _is_whole(i)]
                if bad:
                    raise ValueError(f"expected whole numbers, got {bad[0]!r}")
                return tuple(int(i) for i in items)
            return tuple(str(i) for i in items)
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {type(value).__name__}")
        return value
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: {exc}") from None


def _is_whole(value: Any) -> bool:
    # Checked first so that Python's own "invalid literal for int()" never reaches a user.
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().lstrip("+-").isdigit()


def _is_number(value: Any) -> bool:
    if isinstance(value, int | float):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _read_secret_file(key: str, path: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{key}_file: cannot read {path}: {exc.strerror}") from None


def load_config(
    path: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Build the configuration.

    `path` None means `$TRIAGEBOT_CONFIG` or `./triagebot.toml` if it exists.
    `overrides` (from CLI flags) win over everything.
    """
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {}
    explicit = path is not None or "TRIAGEBOT_CONFIG" in env
    cfg_path = Path(path or env.get("TRIAGEBOT_CONFIG") or DEFAULT_CONFIG_FILE)
    source = "defaults"
    if cfg_path.exists():
        try:
            data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{cfg_path}: not valid TOML: {exc}") from None
        data = data.get("triagebot", data)
        for key, value in data.items():
            if key.endswith("_file") and key[: -len("_file")] in SECRET_KEYS:
                values[key[: -len("_file")]] = _read_secret_file(key[: -len("_file")], value)
                continue
            if key in SECRET_KEYS:
                raise ConfigError(
                    f"{key}: secrets are not read from the config file; "
                    f"set TRIAGEBOT_{key.upper()} or {key}_file"
                )
            if key not in _FIELDS:
                raise ConfigError(f"{key}: unknown setting in {cfg_path}")
            values[key] = _coerce(key, value)
        source = str(cfg_path)
    elif explicit:
        raise ConfigError(f"config: file {cfg_path} does not exist")

    for name in _FIELDS:
        env_name = f"TRIAGEBOT_{name.upper()}"
        if env_name in env:
            values[name] = _coerce(name, env[env_name])
        if name in SECRET_KEYS and f"{env_name}_FILE" in env:
            values[name] = _read_secret_file(name, env[f"{env_name}_FILE"])
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in _FIELDS:
            raise ConfigError(f"{key}: unknown setting")
        values[key] = _coerce(key, value)

    if values.get("mode", "review") not in MODES:
        raise ConfigError(f"mode: must be one of {', '.join(MODES)}, got {values['mode']!r}")
    channel = values.get("review_channel", "dashboard")
    if channel not in REVIEW_CHANNELS:
        raise ConfigError(
            f"review_channel: must be one of {', '.join(REVIEW_CHANNELS)}, got {channel!r}"
        )
    for key in ("forum_url", "public_url"):
        if values.get(key):
            _check_url(key, values[key])
    return Config(**values, source=source)


def _check_url(key: str, value: str) -> None:
    # Checked at load: a bad URL would otherwise surface only as a run that never connects.
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{key}: must be an http:// or https:// URL such as https://forum.example.com, "
            f"got {value!r}"
        )
