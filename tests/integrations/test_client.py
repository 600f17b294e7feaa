"""The back-office client on its own: URLs that cannot leave the base, the circuit breaker,
and what /metrics shows of the calls."""

from __future__ import annotations

import asyncio

import pytest
import structlog.testing
from aiohttp.test_utils import TestClient, TestServer

from gateway.config.integrations import BackOfficeSettings
from gateway.errors import IntegrationCircuitOpen, IntegrationStatus
from gateway.integrations.breaker import CircuitBreaker
from gateway.integrations.client import Call, Integrations, build_url
from gateway.keys import STORE
from tests.integrations.conftest import Chat, integration, kinds
from tests.integrations.fake_backoffice import FakeBackOffice

BASE = "https://backoffice.example/api"


@pytest.mark.parametrize("value", ["../../admin", "x/y", "@evil.example", "a?b=c#d", "%2e%2e"])
def test_a_value_is_one_encoded_segment_under_the_base_url(value: str) -> None:
    url = build_url(BASE, Call("GET", "/orders/{n}", {"n": value}, {"q": "{n}"}))
    assert url.host == "backoffice.example"
    assert url.raw_path.startswith("/api/orders/")
    assert url.raw_path.count("/") == 3
    assert url.query["q"] == value


@pytest.mark.parametrize("path", ["//evil.example/x", "orders", "/x?y={n}"])
def test_a_path_template_that_could_leave_the_base_is_refused(path: str) -> None:
    with pytest.raises(ValueError):
        build_url(BASE, Call("GET", path, {"n": "1"}))
    with pytest.raises(ValueError):
        build_url(BASE, Call("GET", "/orders/{n}", {"n": ".."}))


def test_a_secret_cannot_be_empty() -> None:
    with pytest.raises(ValueError, match="needs a token"):
        BackOfficeSettings(base_url=BASE, auth="bearer", token="  ")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="absolute http"):
        BackOfficeSettings(base_url="file:///etc/passwd")


def test_the_breaker_opens_after_n_failures_and_one_trial_closes_it() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=2, seconds=10, clock=lambda: now[0])
    breaker.failed()
    assert breaker.allow()
    breaker.failed()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 10.0
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.failed()  # a failed trial opens it again for a whole period
    now[0] = 15.0
    assert not breaker.allow()
    now[0] = 20.0
    assert breaker.allow()
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.allow()


async def test_an_open_circuit_stops_calling_then_a_trial_closes_it(
        backoffice: tuple[FakeBackOffice, TestServer]) -> None:
    fake, server = backoffice
    settings = BackOfficeSettings.model_validate(integration(
        server, retries=0, breaker_failures=2, breaker_seconds=0.5))
    call = Call("GET", "/customers/{c}/orders/{n}", {"c": "C-1042", "n": "VEL-20481"})
    async with Integrations({"bo": settings}).running() as integrations:
        fake.fail_next = [500, 500]
        for _ in range(2):
            with pytest.raises(IntegrationStatus):
                await integrations.call("bo", call)
        with pytest.raises(IntegrationCircuitOpen, match="circuit open"):
            await integrations.call("bo", call)
        assert len(fake.calls) == 2  # refused without calling
        await asyncio.sleep(1.0)  # past breaker_seconds: one trial goes out
        assert (await integrations.call("bo", call)).status == 200
        assert integrations.breakers["bo"].state == "closed"
    assert integrations.calls[("bo", "circuit_open")] == 1


@pytest.mark.parametrize("integration_overrides", [{"retries": 0, "breaker_failures": 1}])
async def test_an_open_circuit_hands_off_at_once_and_metrics_show_it(
        chat: Chat, backoffice: tuple[FakeBackOffice, TestServer],
        client: TestClient) -> None:
    fake, _ = backoffice
    fake.fail_next = [502]
    await chat.say("where is my order VEL-20481")
    first = await chat.say("C-1042 9000")
    assert kinds(first) == ["verified", "handoff"]
    other = Chat(client, chat.headers, customer="ann-2")
    await other.say("where is my order VEL-20481")
    second = await other.say("C-1042 9000")
    assert kinds(second) == ["verified", "handoff"]
    ticket = await client.app[STORE].get_ticket(second["ticket_id"])
    assert ticket is not None and "circuit open" in ticket.bot_attempts[0]["reason"]
    assert len(fake.calls) == 1
    metrics = await (await client.get("/metrics")).text()
    assert 'helpdesk_integration_calls_total{integration="backoffice",outcome="server_error"}' \
        ' 1.0' in metrics
    assert 'helpdesk_integration_calls_total{integration="backoffice",outcome="circuit_open"}' \
        ' 1.0' in metrics
    assert 'helpdesk_integration_circuit_open{integration="backoffice"} 1.0' in metrics
    assert 'helpdesk_integration_latency_seconds_count{integration="backoffice"} 1.0' in metrics


async def test_calls_are_logged_without_the_values(
        backoffice: tuple[FakeBackOffice, TestServer]) -> None:
    _, server = backoffice
    settings = BackOfficeSettings.model_validate(integration(server))
    call = Call("GET", "/customers/{c}/orders/{n}", {"c": "C-1042", "n": "VEL-20481"})
    with structlog.testing.capture_logs() as logs:
        async with Integrations({"bo": settings}).running() as integrations:
            await integrations.call("bo", call)
    (event,) = [e for e in logs if e["event"] == "integration.call"]
    assert event["path"] == "/customers/{c}/orders/{n}" and event["status"] == 200
    assert "C-1042" not in repr(logs) and "VEL-20481" not in repr(logs)
