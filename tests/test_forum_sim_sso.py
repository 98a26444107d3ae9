"""DiscourseConnect provider and login page of the local forum."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

SSO_SECRET = "sso-secret-for-tests"
RETURN = "http://dashboard.test/auth/callback"


def _request(nonce: str = "n0nce", secret: str = SSO_SECRET, return_url: str = RETURN) -> dict:
    payload = base64.b64encode(urlencode({"nonce": nonce, "return_sso_url": return_url}).encode())
    sso = payload.decode()
    sig = hmac.new(secret.encode(), sso.encode(), hashlib.sha256).hexdigest()
    return {"sso": sso, "sig": sig}


def _decode(location: str) -> dict[str, str]:
    query = parse_qs(urlsplit(location).query)
    sso, sig = query["sso"][0], query["sig"][0]
    expected = hmac.new(SSO_SECRET.encode(), sso.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(sig, expected)
    return {k: v[0] for k, v in parse_qs(base64.b64decode(sso).decode()).items()}


@pytest.fixture
def sso_forum(forum):
    forum.state.sso_secret = SSO_SECRET
    forum.state.add_user("mod1", moderator=True, password="pw-mod", groups=("support",))
    forum.state.add_user("member", password="pw-member")
    return forum


async def _login(http: httpx.AsyncClient, username: str, password: str, return_to: str = "/"):
    return await http.post(
        "/login", data={"username": username, "password": password, "return_to": return_to}
    )


async def test_logged_in_moderator_is_redirected_with_signed_identity(sso_forum):
    async with sso_forum.http() as http:
        assert (await _login(http, "mod1", "pw-mod")).status_code == 303
        r = await http.get("/session/sso_provider", params=_request("abc123"))
    assert r.status_code == 302
    location = r.headers["location"]
    assert location.startswith(RETURN + "?")
    data = _decode(location)
    assert data["nonce"] == "abc123"
    assert data["username"] == "mod1"
    assert data["moderator"] == "true" and data["admin"] == "false"
    assert set(data["groups"].split(",")) == {"staff", "moderators", "support"}
    assert data["external_id"] == str(sso_forum.state.user("mod1").id)
    assert data["email"]


async def test_not_logged_in_is_sent_to_login_then_continues(sso_forum):
    async with sso_forum.http() as http:
        r = await http.get("/session/sso_provider", params=_request("n1"))
        # core: the request waits in the sso_payload cookie and the browser goes to /login.
        assert r.status_code == 302 and r.headers["location"] == "/login"
        assert "sso_payload" in r.cookies
        form = await http.get("/login")
        assert form.status_code == 200 and 'name="password"' in form.text
        login = await _login(http, "member", "pw-member")
        assert login.status_code == 303
        assert login.headers["location"].startswith("/session/sso_provider?")
        r2 = await http.get(login.headers["location"])
    assert r2.status_code == 302
    data = _decode(r2.headers["location"])
    assert data["nonce"] == "n1" and data["username"] == "member"
    assert data["moderator"] == "false"


def _request_with(**extra: str) -> dict:
    params = {"nonce": "n2", "return_sso_url": RETURN, **extra}
    sso = base64.b64encode(urlencode(params).encode()).decode()
    sig = hmac.new(SSO_SECRET.encode(), sso.encode(), hashlib.sha256).hexdigest()
    return {"sso": sso, "sig": sig}


async def test_prompt_none_answers_failed_at_once_when_not_logged_in(sso_forum):
    async with sso_forum.http() as http:
        r = await http.get("/session/sso_provider", params=_request_with(prompt="none"))
        assert r.status_code == 302 and r.headers["location"].startswith(RETURN + "?")
        data = _decode(r.headers["location"])
        assert data == {"nonce": "n2", "return_sso_url": RETURN, "failed": "true"}
        # Signed in, prompt=none is an ordinary sign-in.
        await _login(http, "mod1", "pw-mod")
        r = await http.get("/session/sso_provider", params=_request_with(prompt="none"))
    assert _decode(r.headers["location"])["username"] == "mod1"


async def test_logout_true_signs_out_and_returns(sso_forum):
    async with sso_forum.http() as http:
        await _login(http, "mod1", "pw-mod")
        r = await http.get("/session/sso_provider", params=_request_with(logout="true"))
        assert r.status_code == 302 and r.headers["location"] == RETURN
        # The forum session is gone: the next request is sent to the login page.
        again = await http.get("/session/sso_provider", params=_request())
    assert again.status_code == 302 and again.headers["location"] == "/login"


async def test_bad_or_missing_signature_is_core_plain_text_422(sso_forum):
    async with sso_forum.http() as http:
        await _login(http, "mod1", "pw-mod")
        bad = _request(secret="not-the-secret")
        tampered = _request()
        tampered["sso"] = _request(nonce="other")["sso"]
        no_sig = {"sso": _request()["sso"]}
        for params in (bad, tampered, no_sig, {}):
            r = await http.get("/session/sso_provider", params=params)
            assert r.status_code == 422, params
            assert r.headers["content-type"].startswith("text/plain")
            assert r.text == "Login Error"  # never a hint at the right signature


async def test_missing_return_sso_url_is_a_400(sso_forum):
    payload = base64.b64encode(urlencode({"nonce": "n3"}).encode()).decode()
    sig = hmac.new(SSO_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    async with sso_forum.http() as http:
        r = await http.get("/session/sso_provider", params={"sso": payload, "sig": sig})
    assert r.status_code == 400 and r.text == "return_sso_url is blank, it must be provided"


async def test_wrong_password_and_open_redirect_are_refused(sso_forum):
    async with sso_forum.http() as http:
        r = await _login(http, "mod1", "wrong")
        assert r.status_code == 401 and "Incorrect" in r.text
        r = await _login(http, "mod1", "pw-mod", "http://evil.test/")
        assert r.status_code == 303 and r.headers["location"] == "/"


async def test_provider_disabled_without_secret(forum):
    async with forum.http() as http:
        r = await http.get("/session/sso_provider", params=_request())
    assert r.status_code == 404
