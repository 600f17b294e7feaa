"""The gateway with the demo KB and `[integrations.backoffice]` pointing at a fake back
office on a loopback port (tests/integrations/fake_backoffice.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.config.settings import Settings
from tests.conftest import ALWAYS_OPEN
from tests.integrations.fake_backoffice import TOKEN, FakeBackOffice

DIRECTORY = ("number,postal_code,name,email,segment\n"
             "C-1042,9000,Ann Peeters,ann@example.be,consumer\n"
             "C-2001,1000,Luc Dubois,luc@example.be,consumer\n")


@pytest.fixture
async def backoffice(aiohttp_server: Callable[..., Any]) -> tuple[FakeBackOffice, TestServer]:
    fake = FakeBackOffice(orders={
        ("C-1042", "VEL-20481"): {"number": "VEL-20481", "status": "shipped",
                                  "shipped_on": "2 December", "carrier": "bpost",
                                  "expected_delivery": "4 December"},
        ("C-1042", "VEL-20418"): {"number": "VEL-20418", "status": "delivered",
                                  "delivered_on": "28 November"},
        ("C-2001", "VEL-30000"): {"number": "VEL-30000", "status": "processing",
                                  "expected_ship_date": "5 December"},
    })
    server = await aiohttp_server(fake.app())
    return fake, server


def integration(server: TestServer, **overrides: Any) -> dict[str, Any]:
    return {"base_url": str(server.make_url("")), "auth": "bearer", "token": TOKEN,
            "timeout": 2.0, "retries": 2, "backoff": 0.01, "breaker_failures": 3,
            "breaker_seconds": 30.0, **overrides}


@pytest.fixture
def integration_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path,
             backoffice: tuple[FakeBackOffice, TestServer],
             integration_overrides: dict[str, Any]) -> Settings:
    (tmp_path / "customers.csv").write_text(DIRECTORY, encoding="utf-8")
    return make_settings(
        calendar=ALWAYS_OPEN, customers={"directory": str(tmp_path / "customers.csv")},
        integrations={"backoffice": integration(backoffice[1], **integration_overrides)})


class Chat:
    """One customer talking to the gateway's REST API, turn after turn."""

    def __init__(self, client: TestClient, headers: dict[str, str],
                 customer: str = "ann-1") -> None:
        self.client, self.headers, self.customer = client, headers, customer
        self.conversation_id: int | None = None

    async def say(self, text: str, language: str = "en") -> dict[str, Any]:
        response = await self.client.post("/api/v1/messages", headers=self.headers, json={
            "customer": {"id": self.customer, "name": "Ann"}, "text": text,
            "conversation_id": self.conversation_id, "language": language})
        assert response.status == 201, await response.text()
        body: dict[str, Any] = await response.json()
        self.conversation_id = body["conversation_id"]
        return body


def kinds(body: dict[str, Any]) -> list[str]:
    return [reply["kind"] for reply in body["replies"]]


@pytest.fixture
def chat(client: TestClient, api_headers: dict[str, str]) -> Chat:
    return Chat(client, api_headers)
