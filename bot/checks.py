"""`triagebot check`: everything that must be right before the bot can run.

Each check is a small function returning `CheckResult`s; `run_checks` runs them in
order and skips what cannot be judged once an earlier check failed (no forum, no
key checks). A failure is *permanent* when waiting will not fix it (a revoked key,
a missing scope, an uninitialised database): `run` and `serve` refuse to start on
those and only warn about the others (a forum that is down, a model that the bot
retrains by itself).

A Discourse key cannot list its own scopes (only an admin can read
/admin/api/keys), but Discourse checks a granular key's scopes while it
authenticates, before the controller reads any parameter. So each capability is
probed with a request that the controller would refuse as incomplete: an empty
`POST /posts.json` is a 400 "param is missing" with `topics:write` and a 403
without it; nothing is ever created, edited or flagged by a probe.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.config import Config
from bot.errors import UserError
from bot.store import SCHEMA_VERSION

# What each mode writes to the forum (review mode still posts approved drafts,
# escalates by private message and flags pasted keys).
MODE_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "dry-run": ("read",),
    "review": ("read", "reply", "private_message", "flag"),
    "auto": ("read", "reply", "private_message", "flag"),
}
# Capabilities checked but not needed by any mode yet (reported, never a failure).
OPTIONAL_CAPABILITIES = ("tag",)
MIN_WEBHOOK_SECRET = 12
MIN_SESSION_SECRET = 16


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    # A failure that retrying will not fix; `run`/`serve` refuse to start on it.
    permanent: bool = True
    # Reported but never a failure (e.g. a capability no mode needs yet).
    warning: bool = False

    @property
    def status(self) -> str:
        if self.ok:
            return "ok"
        return "warn" if self.warning else "fail"


@dataclass(frozen=True)
class CheckReport:
    results: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.ok and not r.warning]

    @property
    def permanent_failures(self) -> list[CheckResult]:
        return [r for r in self.failures if r.permanent]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [{**asdict(r), "status": r.status} for r in self.results],
        }


def _ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name, True, detail)


def _fail(name: str, detail: str, *, permanent: bool = True) -> CheckResult:
    return CheckResult(name, False, detail, permanent=permanent)


# ------------------------------------------------------------------ local checks


def check_config(config: Config) -> list[CheckResult]:
    """The values loading cannot judge alone: what the forum connection needs."""
    out: list[CheckResult] = []
    problems = []
    if not config.forum_url:
        problems.append("forum_url: not set (TRIAGEBOT_FORUM_URL)")
    elif urlsplit(config.forum_url).scheme not in ("http", "https"):
        problems.append(f"forum_url: not an http(s) URL: {config.forum_url!r}")
    if not config.api_key:
        problems.append("api_key: not set (TRIAGEBOT_API_KEY or TRIAGEBOT_API_KEY_FILE)")
    if not config.api_username:
        problems.append("api_username: not set")
    if problems:
        out.append(_fail("config", "; ".join(problems)))
    else:
        out.append(_ok("config", f"loaded from {config.source}, mode {config.mode}"))
    return out


def open_readonly(db_path: str) -> sqlite3.Connection | None:
    """The database opened read-only, or None when the file does not exist.

    Never `Store.open`: that creates and migrates, and a check must change nothing.
    """
    path = Path(db_path).expanduser()
    if not path.is_file():
        return None
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def check_database(config: Config) -> list[CheckResult]:
    fix = f"run `triagebot --db {config.db_path} init`"
    try:
        conn = open_readonly(config.db_path)
    except sqlite3.DatabaseError as exc:
        return [_fail("database", f"cannot open {config.db_path}: {exc}")]
    if conn is None:
        return [_fail("database", f"{config.db_path} does not exist; {fix}")]
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            return [_fail("database", f"{config.db_path} is not initialised; {fix}")]
        if version < SCHEMA_VERSION:
            return [
                _fail(
                    "database",
                    f"schema version {version}, this triagebot needs {SCHEMA_VERSION}; {fix}",
                )
            ]
        if version > SCHEMA_VERSION:
            return [
                _fail(
                    "database",
                    f"schema version {version} is newer than this triagebot "
                    f"({SCHEMA_VERSION}); upgrade triagebot",
                )
            ]
        count = conn.execute("SELECT COUNT(*) FROM known_issues").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return [_fail("database", f"{config.db_path} is not a triagebot database: {exc}")]
    finally:
        conn.close()
    out = [_ok("database", f"{config.db_path}: schema version {version}")]
    if count == 0:
        out.append(_fail("known_issues", f"none loaded; {fix}"))
    else:
        out.append(_ok("known_issues", f"{count} loaded"))
    return out


def model_status(config: Config) -> tuple[bool, str]:
    """(fresh, detail): does a saved model match the current known issues and training data?

    Asks the engine's own freshness rule (the data hash on the model card and the
    feature code it was built with) without loading or training anything.
    """
    import sqlite_utils

    from bot.store import Store
    from bot.triage import classifier
    from bot.triage.engine import model_compatible, trained_labels
    from bot.triage.training_data import data_hash, load_training_dir

    conn = open_readonly(config.db_path)
    if conn is None:
        return False, "no database to read the known issues from"
    try:
        issues = Store(sqlite_utils.Database(conn)).list_issues()
    finally:
        conn.close()
    if not issues:
        return False, "no known issues to train on"
    examples = load_training_dir(config.resolved_data_dir() / "training")
    want = data_hash(issues, [e for e in examples if e.label in trained_labels(issues)])
    cache = Path(config.db_path).expanduser().resolve().parent / ".triagebot-models"
    seen = []
    for directory in (config.resolved_models_dir(), cache):
        card = classifier.read_card(directory)
        if card is None:
            continue
        if card.data_hash == want and model_compatible(card):
            return True, f"model {card.version} in {directory} matches the data"
        seen.append(str(directory))
    where = ", ".join(seen) or "no model card found"
    return False, f"stale: trained on other data ({where}); run `triagebot train`"


def check_model(config: Config) -> list[CheckResult]:
    try:
        fresh, detail = model_status(config)
    except Exception as exc:  # a broken card or data file must not hide the other checks
        return [_fail("model", f"cannot judge: {type(exc).__name__}: {exc}", permanent=False)]
    # Not permanent: the running bot retrains by itself when the data changed.
    return [_ok("model", detail) if fresh else _fail("model", detail, permanent=False)]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_secrets(config: Config, purpose: str = "serve") -> list[CheckResult]:
    """Webhook and sign-in settings; only `serve` needs them (`run` only polls)."""
    if purpose != "serve":
        return []
    out: list[CheckResult] = []
    if not config.webhook_secret:
        out.append(_fail("webhook_secret", "not set; set TRIAGEBOT_WEBHOOK_SECRET"))
    elif len(config.webhook_secret) < MIN_WEBHOOK_SECRET:
        out.append(
            _fail("webhook_secret", f"shorter than {MIN_WEBHOOK_SECRET} characters (Discourse)")
        )
    else:
        out.append(_ok("webhook_secret", "set"))
    if not config.sso_secret and not config.session_secret:
        # `serve` then runs the webhook without the dashboard: worth saying, not refusing.
        out.append(
            CheckResult(
                "sign_in",
                False,
                "dashboard off: set TRIAGEBOT_SSO_SECRET and TRIAGEBOT_SESSION_SECRET to serve it",
                warning=True,
            )
        )
        return out
    problems = []
    if not config.sso_secret:
        problems.append("sso_secret not set (TRIAGEBOT_SSO_SECRET)")
    if not config.session_secret:
        problems.append("session_secret not set (TRIAGEBOT_SESSION_SECRET)")
    elif len(config.session_secret) < MIN_SESSION_SECRET:
        problems.append(f"session_secret shorter than {MIN_SESSION_SECRET} characters")
    url = urlsplit(config.public_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        problems.append(f"public_url is not an http(s) URL: {config.public_url!r}")
    elif url.scheme == "http" and not _is_loopback(url.hostname):
        # Session cookies are only marked Secure for https, and Discourse sends the
        # signed sign-in payload back to this URL.
        problems.append(f"public_url {config.public_url} must use https off loopback")
    if url.path not in ("", "/"):
        problems.append("public_url must be the site root (the dashboard serves at /)")
    forum = urlsplit(config.forum_url)
    if url.hostname and (url.hostname, url.port) == (forum.hostname, forum.port):
        # The sign-in return address would point at the forum, not at the bot.
        problems.append(f"public_url {config.public_url} is the forum's address, not the bot's")
    if problems:
        out.append(_fail("sign_in", "; ".join(problems)))
    else:
        out.append(_ok("sign_in", f"DiscourseConnect return URL {config.public_url}/auth/sso"))
    return out


# ------------------------------------------------------------------ forum checks


@dataclass(frozen=True)
class _Probe:
    capability: str
    method: str
    path: str
    scope_hint: str
    body: dict[str, Any] | None = None
    # Statuses that prove the request got past authentication and scopes.
    allowed: tuple[int, ...] = (200, 400, 404, 422)


PROBES: dict[str, tuple[_Probe, ...]] = {
    "read": (
        _Probe("read", "GET", "/posts.json", "posts:list or global:read"),
        _Probe("read", "GET", "/t/0.json", "topics:read or global:read"),
    ),
    "reply": (_Probe("reply", "POST", "/posts.json", "topics:write", {}),),
    # A private message is the same controller action as a reply (posts#create).
    "private_message": (_Probe("private_message", "POST", "/posts.json", "topics:write", {}),),
    "flag": (
        _Probe("flag", "GET", "/site.json", "global:read (flag type ids)"),
        _Probe(
            "flag",
            "POST",
            "/post_actions.json",
            "a Global key: no granular scope covers post_actions#create",
            {},
        ),
    ),
    "tag": (_Probe("tag", "PUT", "/t/-/0.json", "topics:update", {}),),
    # Rewriting a draft's whisper once staff decided.
    "edit": (_Probe("edit", "PUT", "/posts/0.json", "posts:edit", {}),),
}


class _Forum:
    def __init__(self, http: httpx.AsyncClient, config: Config) -> None:
        self.http = http
        self.config = config

    async def call(
        self,
        method: str,
        path: str,
        *,
        key: bool = True,
        username: bool = True,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json", "User-Agent": "triagebot check"}
        if key:
            headers["Api-Key"] = self.config.api_key
            if username:
                headers["Api-Username"] = self.config.api_username
        if body is not None:
            return await self.http.request(method, path, headers=headers, json=body)
        return await self.http.request(method, path, headers=headers)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


async def check_forum(
    config: Config, *, http: httpx.AsyncClient | None = None, purpose: str = "serve"
) -> list[CheckResult]:
    """Reachable, key valid, acting as `api_username`, and the scopes the mode needs."""
    own = http is None
    if http is None:
        http = httpx.AsyncClient(
            base_url=config.forum_url.rstrip("/"),
            timeout=httpx.Timeout(10.0, connect=5.0),
            follow_redirects=False,
        )
    try:
        return await _check_forum(_Forum(http, config), config, purpose)
    except httpx.RequestError as exc:  # the forum went away half-way through
        return [
            _fail("forum", f"{config.forum_url} unreachable: {type(exc).__name__}", permanent=False)
        ]
    finally:
        if own:
            await http.aclose()


async def _check_forum(forum: _Forum, config: Config, purpose: str) -> list[CheckResult]:
    out: list[CheckResult] = []
    try:
        anon = await forum.call("GET", "/site.json", key=False)
    except httpx.RequestError as exc:
        # Not permanent: a forum that is down now may be up in a minute.
        return [
            _fail(
                "forum",
                f"{config.forum_url} unreachable: {type(exc).__name__}",
                permanent=False,
            )
        ]
    if anon.is_redirect:
        target = anon.headers.get("location", "?")
        return [
            _fail("forum", f"{config.forum_url}/site.json redirects to {target}: fix forum_url")
        ]
    if anon.status_code >= 500:
        return [
            _fail("forum", f"{config.forum_url} answers HTTP {anon.status_code}", permanent=False)
        ]
    data = _json(anon)
    if anon.status_code == 200 and not (isinstance(data, dict) and "categories" in data):
        return [_fail("forum", f"{config.forum_url} does not look like a Discourse forum")]
    if anon.status_code not in (200, 403) and not isinstance(data, dict):
        return [
            _fail(
                "forum",
                f"{config.forum_url}/site.json answered HTTP {anon.status_code}: "
                "is forum_url the forum's root?",
            )
        ]
    out.append(_ok("forum", f"{config.forum_url} reachable"))

    me = await forum.call("GET", f"/u/{config.api_username}.json")
    user: dict[str, Any] | None = None
    if me.status_code == 200:
        payload = _json(me)
        user = payload.get("user") if isinstance(payload, dict) else None
    elif me.status_code == 403:
        out.extend(await _diagnose_403(forum, config))
        return out
    elif me.status_code == 404:
        out.append(_ok("api_key", "accepted"))
        out.append(_fail("api_user", f"no user {config.api_username!r} on the forum"))
        return out
    else:
        out.append(
            _fail(
                "api_key",
                f"GET /u/{config.api_username}.json: HTTP {me.status_code}",
                permanent=False,
            )
        )
        return out
    out.append(_ok("api_key", "accepted"))
    if not isinstance(user, dict) or str(user.get("username", "")).lower() != (
        config.api_username.lower()
    ):
        out.append(_fail("api_user", f"the forum did not return user {config.api_username!r}"))
        return out
    role = "admin" if user.get("admin") else "moderator" if user.get("moderator") else "member"
    out.append(_ok("api_user", f"acting as {user.get('username')} ({role})"))

    needed = MODE_CAPABILITIES[config.mode]
    if config.review_channel == "flag" and "flag" not in needed:
        needed = (*needed, "flag")
    if config.review_channel == "whisper" and config.mode != "dry-run":
        needed = (*needed, "edit")
    seen: dict[tuple[str, str], int] = {}  # a request two capabilities share is sent once
    for capability in (*needed, *OPTIONAL_CAPABILITIES):
        result = await _probe(forum, capability, seen)
        if capability not in needed and not result.ok:
            result = CheckResult(
                result.name, False, result.detail + " (not needed yet)", warning=True
            )
        out.append(result)
    if config.review_channel == "whisper":
        if user.get("admin") or user.get("moderator"):
            out.append(_ok("scope:whisper", "staff can whisper"))
        else:
            out.append(
                _fail(
                    "scope:whisper",
                    f"{config.api_username} is not staff; whispers need a moderator "
                    "(or a whisperers group member)",
                )
            )
    return out


async def _probe(forum: _Forum, capability: str, seen: dict[tuple[str, str], int]) -> CheckResult:
    name = f"scope:{capability}"
    for probe in PROBES[capability]:
        status = seen.get((probe.method, probe.path))
        if status is None:
            response = await forum.call(probe.method, probe.path, body=probe.body)
            status = seen[(probe.method, probe.path)] = response.status_code
        if status == 403:
            return _fail(name, f"{probe.method} {probe.path} refused: needs {probe.scope_hint}")
        if status == 429:
            return _fail(name, "rate limited while probing; try again", permanent=False)
        if status not in probe.allowed:
            return _fail(
                name, f"{probe.method} {probe.path}: unexpected HTTP {status}",
                permanent=status < 500,
            )  # fmt: skip
    return _ok(name, "; ".join(f"{p.method} {p.path} allowed" for p in PROBES[capability]))


async def _diagnose_403(forum: _Forum, config: Config) -> list[CheckResult]:
    """Tell a wrong key from a wrong username from a key that cannot read users.

    A key tied to one user also works without `Api-Username` (Discourse then acts as
    its user), so a 403 that goes away without the header means the key belongs
    to someone else.
    """
    bare = await forum.call("GET", f"/u/{config.api_username}.json", username=False)
    if bare.status_code == 200:
        who = await forum.call("GET", "/session/current.json", username=False)
        owner = None
        if who.status_code == 200 and isinstance(_json(who), dict):
            owner = (_json(who).get("current_user") or {}).get("username")
        whose = f"user {owner!r}" if owner else "another user"
        return [
            _ok("api_key", "accepted without Api-Username"),
            _fail(
                "api_user",
                f"the key belongs to {whose}, not api_username {config.api_username!r}",
            ),
        ]
    public = await forum.call("GET", f"/u/{config.api_username}.json", key=False)
    if public.status_code == 404:
        return [_fail("api_user", f"no user {config.api_username!r} on the forum")]
    listing = await forum.call("GET", "/posts.json")
    if listing.status_code == 200:
        return [
            _ok("api_key", "accepted"),
            _fail("scope:read", f"GET /u/{config.api_username}.json refused: the key needs "
                  "users:show or global:read"),
        ]  # fmt: skip
    return [_fail("api_key", "refused by the forum: revoked, mistyped or for another site")]


# ------------------------------------------------------------------ all of it


def run_checks(
    config: Config,
    *,
    http: httpx.AsyncClient | None = None,
    purpose: str = "serve",
    check_model_fresh: bool = True,
) -> CheckReport:
    """Every check, in the order a person would fix them (runs its own event loop)."""
    return asyncio.run(
        run_checks_async(config, http=http, purpose=purpose, check_model_fresh=check_model_fresh)
    )


async def run_checks_async(
    config: Config,
    *,
    http: httpx.AsyncClient | None = None,
    purpose: str = "serve",
    check_model_fresh: bool = True,
) -> CheckReport:
    """`run_checks` for callers already on an event loop."""
    settings = check_config(config)
    database = check_database(config)
    results = [*settings, *database]
    if check_model_fresh and all(r.ok for r in database):
        results += check_model(config)
    results += check_secrets(config, purpose)
    if all(r.ok for r in settings):  # no forum to ask without a usable forum_url and key
        results += await check_forum(config, http=http, purpose=purpose)
    return CheckReport(tuple(results))


def summary_line(results: Sequence[CheckResult]) -> str:
    return "; ".join(f"{r.name}: {r.detail}" for r in results)


class PreflightError(UserError):
    """A permanent failure found before start-up; `run`/`serve` exit with it."""


def preflight(config: Config, *, purpose: str, check_model_fresh: bool = True) -> CheckReport:
    """The checks `run` and `serve` make first: refuse on a permanent failure, log the rest."""
    report = run_checks(config, purpose=purpose, check_model_fresh=check_model_fresh)
    permanent = report.permanent_failures
    if permanent:
        more = (
            f" (and {len(permanent) - 1} more; see `triagebot check`)" if len(permanent) > 1 else ""
        )
        first = permanent[0]
        raise PreflightError(f"{first.name}: {first.detail}{more}")
    for result in report.failures:
        logging.getLogger("triagebot.check").warning("%s: %s", result.name, result.detail)
    return report
