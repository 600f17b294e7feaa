"""Logging in and out of the console, and what a visitor without a session gets."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from console_helpers import Login, csrf_of
from yarl import URL

from gateway.access.auth import COOKIE


def _cookie(client: TestClient, name: str = COOKIE) -> str | None:
    for cookie in client.session.cookie_jar:
        if cookie.key == name:
            return cookie.value
    return None


async def test_login_form_is_accessible_and_protected(client: TestClient) -> None:
    response = await client.get("/console/login")
    html = await response.text()
    assert response.status == 200
    assert '<html lang="en">' in html
    assert '<label for="username">' in html and '<label for="password">' in html
    assert csrf_of(html)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


async def test_wrong_password_shows_the_form_again_with_401(
    client: TestClient, login: Login
) -> None:
    form = await client.get("/console/login")
    response = await client.post("/console/login", data={
        "csrf": csrf_of(await form.text()), "username": "admin", "password": "wrong",
    })
    html = await response.text()
    assert response.status == 401
    assert "Wrong username or password." in html
    assert 'name="password"' in html and 'value="admin"' in html  # username kept
    assert _cookie(client) is None


async def test_login_form_without_its_token_is_refused(client: TestClient,
                                                       admin_password: str) -> None:
    await client.get("/console/login")
    response = await client.post("/console/login", data={
        "username": "admin", "password": admin_password,
    })
    assert response.status == 403
    assert _cookie(client) is None


async def test_login_opens_a_new_session_each_time(client: TestClient, login: Login,
                                                   admin_password: str) -> None:
    await login()
    first = _cookie(client)
    # Logging in again over a live session (the form is still open in another tab).
    response = await client.post("/console/login", data={
        "csrf": _cookie(client, "hgw_login_csrf"), "username": "admin",
        "password": admin_password,
    })
    assert response.status == 200 and response.url.path == "/console"
    second = _cookie(client)
    assert first and second and first != second
    # The replaced session is gone from the server, not only from this browser.
    stale = await client.get("/console", cookies={COOKIE: first}, allow_redirects=False)
    assert stale.status == 303


async def test_logged_out_visitors_are_sent_to_login(client: TestClient) -> None:
    for path in ("/console", "/console/tickets/1", "/console/ws"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"].startswith("/console/login"), path
    posted = await client.post("/console/tickets/1/reply", data={"text": "hi"},
                               allow_redirects=False)
    assert posted.status == 303
    assert posted.headers["Location"] == "/console/login"


async def test_login_returns_to_the_page_asked_for_but_never_elsewhere(
    client: TestClient, admin_password: str
) -> None:
    response = await client.get("/console/tickets/7", allow_redirects=False)
    location = URL(response.headers["Location"])
    assert location.path == "/console/login" and location.query["next"] == "/console/tickets/7"
    for target, lands in (("/console/tickets/7", "/console/tickets/7"),
                          ("//evil.example/console", "/console"),
                          ("https://evil.example/", "/console")):
        client.session.cookie_jar.clear()
        form = await client.get("/console/login", params={"next": target})
        response = await client.post("/console/login", allow_redirects=False, data={
            "csrf": csrf_of(await form.text()), "username": "admin",
            "password": admin_password, "next": target,
        })
        assert response.status == 303
        assert response.headers["Location"] == lands


async def test_logout_ends_the_session(client: TestClient, login: Login) -> None:
    csrf = await login()
    token = _cookie(client)
    response = await client.post("/console/logout", data={"csrf": csrf})
    assert response.url.path == "/console/login"
    again = await client.get("/console", cookies={COOKIE: token or ""}, allow_redirects=False)
    assert again.status == 303
