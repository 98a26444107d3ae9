"""Route-by-route access control, sign-in and security headers (in-process, httpx.ASGITransport)."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from starlette.routing import Mount, Route

from bot.config import Config
from bot.known_issues import validate_entry
from bot.runner.services import Services
from bot.store import Store
from bot.triage.types import Decision, Thread
from bot.web.app import PUBLIC_PATHS, create_app
from bot.web.auth import encode_payload, sign

SSO_SECRET = "sso-secret-for-tests-0123456789"
BASE = "http://dash.test"


def make_config(**overrides: object) -> Config:
    values: dict[str, object] = {
        "db_path": ":memory:",
        "forum_url": "http://forum.test",
        "sso_secret": SSO_SECRET,
        "session_secret": "session-secret-for-tests-0123456789",
        "public_url": BASE,
        "dashboard_groups": ("triagers",),
    }
    values.update(overrides)
    return Config(**values)  # type: ignore[arg-type]


class NoTriager:
    def decide(self, thread: Thread) -> Decision:  # pragma: no cover - never called here
        raise AssertionError("not used")


def no_client() -> object:
    raise AssertionError("the forum is not used by these tests")


ISSUE = {
    "slug": "sample_issue",
    "title": "Sample issue",
    "status": "investigating",
    "summary": "A sample.",
    "patterns": [{"kind": "literal", "value": "SampleError: it broke"}],
}


@pytest.fixture
def store() -> Store:
    s = Store.open(":memory:")
    s.save_issue(validate_entry(ISSUE), author="seed")
    return s


@pytest.fixture
def app(store: Store):  # type: ignore[no-untyped-def]
    config = make_config()
    services = Services(config=config, store=store, client_factory=no_client, triager=NoTriager())
    return create_app(config, store, services=services)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


async def start_login(client: httpx.AsyncClient, next_path: str = "/") -> tuple[str, str]:
    """Follow /auth/login to the provider URL; returns (nonce, return_sso_url)."""
    r = await client.get("/auth/login", params={"next": next_path})
    assert r.status_code == 303
    url = urlparse(r.headers["location"])
    assert url.path == "/session/sso_provider"
    q = parse_qs(url.query)
    assert sign(SSO_SECRET, q["sso"][0]) == q["sig"][0]
    fields = parse_qs(base64.b64decode(q["sso"][0]).decode())
    return fields["nonce"][0], fields["return_sso_url"][0]


def provider_answer(nonce: str, *, secret: str = SSO_SECRET, **user: str) -> dict[str, str]:
    fields = {
        "nonce": nonce,
        "external_id": "7",
        "username": "alice",
        "name": "Alice",
        "email": "alice@example.invalid",
        "admin": "true",
        "moderator": "false",
        "groups": "staff,admins",
    }
    fields.update(user)
    payload = encode_payload(fields)
    return {"sso": payload, "sig": sign(secret, payload)}


async def sign_in(client: httpx.AsyncClient, **user: str) -> httpx.Response:
    nonce, _ = await start_login(client)
    return await client.get("/auth/sso", params=provider_answer(nonce, **user))


async def csrf_of(client: httpx.AsyncClient, path: str = "/issues") -> str:
    r = await client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert match, "every staff page carries the CSRF token"
    return match.group(1)


def concrete_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Every (method, path) the dashboard serves, with sample path parameters."""
    out: list[tuple[str, str]] = []
    for route in app.routes:
        if isinstance(route, Mount) or not isinstance(route, Route):
            continue
        path = re.sub(r"\{cluster_id:int\}|\{draft_id:int\}", "1", route.path)
        path = path.replace("{slug}", "sample_issue")
        assert "{" not in path, f"add a sample value for {route.path}"
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                out.append((method, path))
    return out


# --------------------------------------------------------------------------- access


async def test_every_route_refuses_anonymous_visitors(app, client, store) -> None:  # type: ignore[no-untyped-def]
    routes = concrete_routes(app)
    assert len(routes) >= 15
    before = store.history("sample_issue")
    for method, path in routes:
        if path in PUBLIC_PATHS:
            continue
        r = await client.request(method, path, data={"slug": "sample_issue", "reason": "x"})
        if method == "GET":
            assert r.status_code == 303, (method, path)
            assert r.headers["location"].startswith("/auth/login?next="), (method, path)
        else:
            assert r.status_code == 403, (method, path)
    assert store.history("sample_issue") == before


async def test_every_form_refuses_a_missing_or_wrong_csrf_token(app, client, store) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client)
    posts = [p for m, p in concrete_routes(app) if m == "POST"]
    assert "/issues/new" in posts and "/drafts/1/approve" in posts
    before = store.history("sample_issue")
    for path in posts:
        for token in (None, "forged-token-forged-token-forged"):
            data = {"slug": "new_slug_here", "title": "t", "status": "fixed", "reason": "r"}
            if token:
                data["csrf_token"] = token
            r = await client.post(path, data=data)
            assert r.status_code == 403, (path, token)
    assert store.history("sample_issue") == before
    assert store.get_issue("new_slug_here") is None
    # Still signed in: the refusals did not end the session.
    assert (await client.get("/")).status_code == 200


async def test_staff_session_reaches_every_page(client) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client)
    for path in (
        "/",
        "/clusters",
        "/drafts",
        "/issues",
        "/issues/new",
        "/audit",
        "/issues/sample_issue",
        "/issues/sample_issue/edit",
    ):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert "alice" in r.text


async def test_public_paths_are_only_the_sign_in_ones() -> None:
    assert {"/auth/login", "/auth/sso", "/auth/signed-out", "/healthz"} == PUBLIC_PATHS


async def test_extra_routes_are_reachable_without_a_session(store) -> None:  # type: ignore[no-untyped-def]
    from starlette.responses import PlainTextResponse

    async def hook(request):  # type: ignore[no-untyped-def]
        return PlainTextResponse("hook ok")

    app = create_app(make_config(), store, extra_routes=[Route("/webhook", hook, methods=["POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        r = await c.post("/webhook", content=b"{}")
        assert r.status_code == 200 and r.text == "hook ok"
        assert (await c.get("/")).status_code == 303


# --------------------------------------------------------------------------- sign-in


async def test_sign_in_sets_a_safe_session_cookie_and_returns_to_next(client) -> None:  # type: ignore[no-untyped-def]
    nonce, return_url = await start_login(client, "/audit?action=reply")
    assert return_url == f"{BASE}/auth/sso"
    r = await client.get("/auth/sso", params=provider_answer(nonce))
    assert r.status_code == 303
    assert r.headers["location"] == "/audit?action=reply"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


async def test_nonce_is_accepted_once_only(client, app) -> None:  # type: ignore[no-untyped-def]
    nonce, _ = await start_login(client)
    answer = provider_answer(nonce)
    assert (await client.get("/auth/sso", params=answer)).status_code == 303
    # A replay of the same signed answer, even in the same browser after a fresh login start.
    await client.post("/auth/logout", data={"csrf_token": await csrf_of(client)})
    await start_login(client)
    r = await client.get("/auth/sso", params=answer)
    assert r.status_code == 403
    assert (await client.get("/")).status_code == 303


async def test_replay_in_another_browser_is_refused(app, client) -> None:  # type: ignore[no-untyped-def]
    nonce, _ = await start_login(client)
    answer = provider_answer(nonce)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as other:
        r = await other.get("/auth/sso", params=answer)
        assert r.status_code == 403  # the nonce is not this browser's (login CSRF)
        assert (await other.get("/")).status_code == 303


async def test_bad_signature_and_garbage_are_refused(client) -> None:  # type: ignore[no-untyped-def]
    nonce, _ = await start_login(client)
    forged = provider_answer(nonce, secret="not-the-secret")
    assert (await client.get("/auth/sso", params=forged)).status_code == 403
    nonce, _ = await start_login(client)
    assert (await client.get("/auth/sso", params={"sso": "%%%", "sig": "00"})).status_code == 403
    assert (await client.get("/auth/sso")).status_code == 403
    assert (await client.get("/")).status_code == 303


async def test_non_staff_member_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    r = await sign_in(
        client, username="bob", admin="false", moderator="false", groups="trust_level_1"
    )
    assert r.status_code == 403
    assert "bob is not staff" in r.text
    assert (await client.get("/")).status_code == 303


@pytest.mark.parametrize(
    "user",
    [
        {"admin": "false", "moderator": "true", "groups": ""},
        {"admin": "false", "moderator": "false", "groups": "trust_level_2,Triagers"},
    ],
)
async def test_moderators_and_the_configured_group_get_in(client, user) -> None:  # type: ignore[no-untyped-def]
    r = await sign_in(client, username="carol", **user)
    assert r.status_code == 303
    assert (await client.get("/")).status_code == 200


async def test_next_cannot_redirect_off_site(client) -> None:  # type: ignore[no-untyped-def]
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        nonce, _ = await start_login(client, target)
        r = await client.get("/auth/sso", params=provider_answer(nonce))
        assert r.headers["location"] == "/", target
        await client.post("/auth/logout", data={"csrf_token": await csrf_of(client)})


async def test_logout_ends_the_session(client) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client)
    token = await csrf_of(client)
    r = await client.post("/auth/logout", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/auth/signed-out"
    assert (await client.get("/issues")).status_code == 303


async def test_tampered_session_cookie_is_ignored(client) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client)
    value = client.cookies.get("triagebot_session")
    assert value
    client.cookies.set("triagebot_session", "A" + value[1:])
    assert (await client.get("/")).status_code == 303


# --------------------------------------------------------------------------- headers


async def test_security_headers_on_pages_redirects_and_errors(client) -> None:  # type: ignore[no-untyped-def]
    anon = await client.get("/")
    await sign_in(client)
    for r in (anon, await client.get("/"), await client.get("/issues/nope")):
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    assert (await client.get("/issues/nope")).status_code == 404


async def test_static_files_are_served_locally(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/static/style.css")
    assert r.status_code == 200 and "text/css" in r.headers["content-type"]
    page = (await sign_in(client), await client.get("/"))[1].text
    assert "http://" not in re.sub(r'href="http://forum\.test[^"]*"', "", page.split("</head>")[0])


def test_missing_secrets_are_one_clear_error(store) -> None:  # type: ignore[no-untyped-def]
    from bot.errors import UserError

    for key in ("session_secret", "sso_secret", "forum_url"):
        with pytest.raises(UserError, match=key):
            create_app(make_config(**{key: ""}), store)
    with pytest.raises(UserError, match="at least 16"):
        create_app(make_config(session_secret="short"), store)


def test_provider_payload_is_a_base64_query_string() -> None:
    payload = encode_payload({"nonce": "n", "groups": "a,b"})
    assert parse_qs(base64.b64decode(payload).decode()) == {"nonce": ["n"], "groups": ["a,b"]}


async def test_serve_wiring_keeps_the_webhook_open_and_the_dashboard_closed(store) -> None:  # type: ignore[no-untyped-def]
    from bot.commands.bot_cmds import build_asgi

    config = make_config(webhook_secret="webhook-secret-0123456789")
    services = Services(config=config, store=store, client_factory=no_client, triager=NoTriager())
    asgi, _, has_dashboard = build_asgi(services)
    assert has_dashboard
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url=BASE) as c:
        r = await c.post("/webhooks/discourse", content=b"{}")
        # The webhook's own signature check answers, not the staff gate.
        assert r.status_code == 400 and "signature" in r.text.lower()
        assert (await c.get("/")).status_code == 303
