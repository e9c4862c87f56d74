"""The console's door: signing in with a key, the cookie it keeps, CSRF on forms, redirects, headers."""

from __future__ import annotations

from pathlib import Path

from console_app import Console
from starlette.testclient import TestClient

from memhub.api import create_app
from memhub.settings import Settings
from support.embedders import HashEmbedder


def test_pages_redirect_to_login_keeping_where_you_were(console: Console) -> None:
    response = console.http.get("/console/memories?user_id=ada&kind=fact")
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/console/login?next=/console/memories%3Fuser_id%3Dada%26kind%3Dfact"
    )
    login = console.http.get(response.headers["location"])
    assert login.status_code == 200
    assert 'name="next" value="/console/memories?user_id=ada&amp;kind=fact"' in login.text


def test_login_sets_a_strict_httponly_cookie_and_goes_to_next(console: Console) -> None:
    response = console.http.post("/console/login", data={"api_key": console.key, "next": "/console/users"})
    assert response.status_code == 303
    assert response.headers["location"] == "/console/users"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("memhub_console=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert console.http.get("/console/users").status_code == 200


def test_login_never_redirects_off_the_console(console: Console) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/v1/memories", "/console\\@evil"):
        response = console.http.post("/console/login", data={"api_key": console.key, "next": target})
        assert response.headers["location"] == "/console", target


def test_sign_in_from_another_origin_is_refused(console: Console) -> None:
    for origin in ("https://evil.example", "null"):
        response = console.http.post(
            "/console/login", data={"api_key": console.key}, headers={"Origin": origin}
        )
        assert response.status_code == 403 and "set-cookie" not in response.headers
    same = console.http.post(
        "/console/login", data={"api_key": console.key}, headers={"Origin": "http://testserver"}
    )
    assert same.status_code == 303


def test_a_wrong_key_is_refused_with_401_and_no_cookie(console: Console) -> None:
    response = console.http.post("/console/login", data={"api_key": "mh_not-a-real-key"})
    assert response.status_code == 401
    assert "not valid" in response.text and "mh_not-a-real-key" not in response.text
    assert "set-cookie" not in response.headers
    assert console.http.get("/console").status_code == 303


def test_a_revoked_key_signs_the_browser_out(console: Console, tmp_path: Path) -> None:
    console.login()
    assert console.http.get("/console").status_code == 200
    service = console.http.app.state.service  # type: ignore[attr-defined]
    service.revoke_api_key(console.key[:10])
    assert console.http.get("/console").status_code == 303


def test_logout_needs_the_csrf_token_and_clears_the_cookie(console: Console) -> None:
    console.login()
    assert console.http.post("/console/logout", data={}).status_code == 403
    response = console.http.post("/console/logout", data={"csrf": console.csrf()})
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    assert 'memhub_console=""' in response.headers["set-cookie"]
    assert console.http.get("/console").status_code == 303


def test_deleting_without_a_valid_token_or_from_another_origin_is_refused(console: Console) -> None:
    console.login()
    memory_id = console.add("csrf-user", "I keep bees on the roof.")["memory_ids"][0]
    token = console.csrf()
    url = f"/console/memories/{memory_id}/delete"
    assert console.http.post(url, data={}).status_code == 403
    assert console.http.post(url, data={"csrf": "0" * 64}).status_code == 403
    foreign = console.http.post(url, data={"csrf": token}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "another site" in foreign.text
    assert console.http.get(f"/console/memories/{memory_id}").status_code == 200  # still there

    deleted = console.http.post(url, data={"csrf": token}, headers={"Origin": "http://testserver"})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/console/memories"
    assert console.http.get(f"/console/memories/{memory_id}").status_code == 404


def test_pages_forbid_scripts_framing_and_caching(console: Console) -> None:
    console.login()
    headers = console.http.get("/console").headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]  # none at all: default-src 'none'
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "same-origin"
    css = console.http.get("/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_the_console_setting_turns_it_off(tmp_path: Path) -> None:
    app = create_app(Settings(data=tmp_path, console=False, worker=False), embedder=HashEmbedder())
    with TestClient(app) as http:
        response = http.get("/console/login")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
