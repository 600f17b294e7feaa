"""The SMTP sink: a real aiosmtpd server that records every reply the gateway delivers.

Each delivered reply is kept as (In-Reply-To, Message-ID, arrival time): the reply to a
customer mail names that mail in In-Reply-To, so counting replies per customer mail gives
"sent once / sent twice / never sent" without trusting the gateway's own records.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

from tests.email_live.servers import free_port


@dataclass(frozen=True)
class Delivered:
    in_reply_to: str
    message_id: str
    at: float  # time.time() when the server answered 250


class SmtpSink:
    def __init__(self) -> None:
        self.port = free_port()
        self._lock = threading.Lock()
        self._received: list[Delivered] = []
        self._controller: Controller | None = None
        #: While `after_250` is set, `answered` is set as a DATA is answered 250: the
        #: moment the gateway has its 250 but may not have recorded it (sessions are
        #: reused, so no QUIT follows a mail).
        self.after_250 = threading.Event()
        self.answered = threading.Event()
        #: While `hold_250` is set, a DATA is recorded, `data_in` is set and the 250 waits
        #: for `release_250`: the moment before the gateway learns that its mail arrived.
        self.hold_250 = threading.Event()
        self.data_in = threading.Event()
        self.release_250 = threading.Event()

    def start(self) -> SmtpSink:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = BytesParser(policy=policy.compat32).parsebytes(envelope.content,
                                                                 headersonly=True)
        entry = Delivered(str(headers.get("In-Reply-To", "")).strip(),
                          str(headers.get("Message-ID", "")).strip(), time.time())
        with self._lock:
            self._received.append(entry)
        if self.hold_250.is_set():
            self.data_in.set()
            deadline = time.monotonic() + 60
            while not self.release_250.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        if self.after_250.is_set():
            self.answered.set()
        return "250 Message accepted"

    @property
    def received(self) -> list[Delivered]:
        with self._lock:
            return list(self._received)
