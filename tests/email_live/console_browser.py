"""An operator's browser against a live gateway's console on a loopback port."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def login(self, username: str, password: str) -> None:
        self.session.cookie_jar.clear()
        async with self.session.get(f"{self.base}/console/login") as form:
            token = CSRF.search(await form.text())
        assert token is not None
        async with self.session.post(f"{self.base}/console/login", data={
                "csrf": token.group(1), "username": username, "password": password}) as done:
            assert done.status == 200 and done.url.path == "/console", await done.text()
            found = CSRF.search(await done.text())
            assert found is not None
            self.csrf = found.group(1)

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        async with self.session.get(f"{self.base}{path}", allow_redirects=False) as response:
            return response.status, dict(response.headers), await response.read()

    async def post(self, path: str, data: dict[str, Any]) -> tuple[int, str]:
        """Submit a console form (CSRF token added); follows the redirect to the result."""
        async with self.session.post(f"{self.base}{path}",
                                     data={"csrf": self.csrf, **data}) as response:
            return response.status, await response.text()


OpenConsole = Callable[[Any], Awaitable[Browser]]
