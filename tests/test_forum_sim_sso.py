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


async def test_not_logged_in_sees_login_form_then_continues(sso_forum):
    async with sso_forum.http() as http:
        r = await http.get("/session/sso_provider", params=_request("n1"))
        assert r.status_code == 200 and 'name="password"' in r.text
        # The form posts back with return_to = the provider URL, then the provider redirects.
        marker = 'name="return_to" value="'
        return_to = r.text.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&")
        assert return_to.startswith("/session/sso_provider?")
        login = await _login(http, "member", "pw-member", return_to)
        assert login.status_code == 303
        r2 = await http.get(login.headers["location"])
    assert r2.status_code == 302
    data = _decode(r2.headers["location"])
    assert data["nonce"] == "n1" and data["username"] == "member"
    assert data["moderator"] == "false"


async def test_bad_signature_is_forbidden(sso_forum):
    async with sso_forum.http() as http:
        await _login(http, "mod1", "pw-mod")
        bad = _request(secret="not-the-secret")
        r = await http.get("/session/sso_provider", params=bad)
        assert r.status_code == 403
        tampered = _request()
        tampered["sso"] = _request(nonce="other")["sso"]
        assert (await http.get("/session/sso_provider", params=tampered)).status_code == 403
        assert (await http.get("/session/sso_provider")).status_code == 403


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
