"""The demo as `make run` starts it: config/gateway.toml and the demo KB with Velora's demo
back office (examples/backoffice/app.py) on a loopback port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from examples.backoffice.app import make_app
from gateway.app import create_app
from gateway.config.settings import load_settings
from tests.conftest import ALWAYS_OPEN, ROOT
from tests.integrations.conftest import Chat, kinds


async def test_the_demo_looks_orders_up_in_the_demo_back_office(
        aiohttp_server: Callable[..., Any], aiohttp_client: Callable[..., Any],
        tmp_path: Any) -> None:
    backoffice = await aiohttp_server(make_app())
    settings = load_settings(ROOT / "config" / "gateway.toml", environ={
        "HELPDESK_INTEGRATIONS__BACKOFFICE__BASE_URL": str(backoffice.make_url("/api")),
        "HELPDESK_DATABASE__URL": f"sqlite:{tmp_path / 'demo.db'}"})
    settings = settings.model_copy(update={"calendar": settings.calendar.model_validate(
        ALWAYS_OPEN)})
    client = await aiohttp_client(create_app(settings))
    chat = Chat(client, {"Authorization": "Bearer demo-api-key"})
    assert kinds(await chat.say("Wo ist meine Bestellung VEL-30000?", "de")) == ["verify"]
    answered = await chat.say("C-2001 1000", "de")
    assert kinds(answered) == ["verified", "answer"]
    assert answered["replies"][1]["text"].startswith(
        "Ihre Bestellung VEL-30000 wird in unserem Lager vorbereitet")
