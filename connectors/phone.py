"""The phone (or counter) channel: contacts an operator records in the console.

The customer is on the line, so there is nothing to transmit: a reply written on such a
ticket is what the operator said, kept in the transcript like any other message.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.channels import NothingToRun, Outbound
from gateway.keys import CONNECTORS

CHANNEL = "phone"


class PhoneConnector(NothingToRun):
    channel = CHANNEL

    async def send(self, outbound: Outbound) -> dict[str, Any] | None:
        return {"delivered": "in person by the operator"}


def setup(app: web.Application) -> None:
    app[CONNECTORS][CHANNEL] = PhoneConnector()
