"""A fake Slack Web API: a real aiohttp server on port 0 that answers in Slack's JSON formats
and records every call, for the methods the connector uses.

https://api.slack.com/web#responses: HTTP 200 with `{"ok": true, ...}` or
`{"ok": false, "error": "..."}`; HTTP 429 with `Retry-After` when rate limited.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

BOT_USER = "UBOT"
BOT_ID = "B0BOT"
TEAM = "T0TEAM"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str
    result: dict[str, Any]


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    #: method → [Retry-After seconds, ...]: the next calls of that method get a 429.
    rate_limits: dict[str, list[int]] = field(default_factory=dict)
    #: method → how many of its next calls are carried out but never answered (the
    #: connection is dropped), as if the answer were lost after Slack did the work.
    lost_answers: dict[str, int] = field(default_factory=dict)
    #: Socket Mode: envelopes to push to the connected client, and its acks.
    envelopes: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    acks: list[dict[str, Any]] = field(default_factory=list)
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    server: TestServer | None = None
    #: user id → the app's direct-message channel with them: a post to a user id lands
    #: there, and Slack answers with that channel (https://api.slack.com/methods/chat.postMessage#app_home)
    dm_channels: dict[str, str] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: file id → the external upload of a file: name, declared length, the bytes POSTed to its
    #: upload URL, and where `files.completeUploadExternal` shared it (channel → [thread ts]).
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    _file_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    def add_user(self, user_id: str, name: str, email: str | None = None,
                 is_bot: bool = False) -> None:
        profile: dict[str, Any] = {"real_name": name, "display_name": name.split()[0]}
        if email:
            profile["email"] = email
        self.users[user_id] = {"id": user_id, "team_id": TEAM, "name": name.lower(),
                               "real_name": name, "is_bot": is_bot, "deleted": False,
                               "profile": profile}
        self.dm_channels[user_id] = "D" + user_id[1:]

    def rate_limit(self, method: str, *retry_after: int) -> None:
        self.rate_limits.setdefault(method, []).extend(retry_after)

    def called(self, method: str, **match: Any) -> list[dict[str, Any]]:
        """Arguments of the successful calls of `method` whose arguments include `match`."""
        return [c.args for c in self.calls if c.method == method
                and all(c.args.get(k) == v for k, v in match.items())]

    def messages(self, **match: Any) -> list[dict[str, Any]]:
        """Messages posted so far (as Slack returned them, with their channel and ts)."""
        return [{**c.result["message"], "channel": c.result["channel"]} for c in self.calls
                if c.method == "chat.postMessage"
                and all(c.args.get(k) == v for k, v in match.items())]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0,
                       **match: Any) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while len(found := self.called(method, **match)) < count:
                await asyncio.sleep(0.02)
        return found

    # -- server --------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._dispatch)
        app.router.add_get("/link", self._socket)
        app.router.add_post("/upload/{file_id}", self._upload)
        self.server = TestServer(app, port=0)
        await self.server.start_server()

    async def close(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self.server is not None:
            await self.server.close()

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(await request.post())
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        waits = self.rate_limits.get(method)
        if waits:
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(waits.pop(0))})
        handler = self._handlers().get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        body = await handler(args)
        if body.get("ok"):
            self.calls.append(Call(method, args, token, body))
        if self.lost_answers.get(method) and request.transport is not None:
            self.lost_answers[method] -= 1
            request.transport.close()
        return web.json_response(body)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]:
        return {"auth.test": self._auth_test, "users.info": self._users_info,
                "chat.postMessage": self._post, "chat.update": self._update,
                "chat.postEphemeral": self._ephemeral,
                "apps.connections.open": self._connections_open,
                "files.getUploadURLExternal": self._upload_url,
                "files.completeUploadExternal": self._complete_upload,
                "files.info": self._file_info}

    def shared_files(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The files shared in one thread so far (each share once), with their bytes."""
        return [f for f in self.files.values()
                for share in f["shares"].get(channel, []) if share == thread_ts]

    def _next_ts(self) -> str:
        return f"1700000{next(self._ts):03d}.000100"

    async def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://velora.slack.com/", "team": "Velora",
                "user": "helpdesk", "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID,
                "is_enterprise_install": False}

    async def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    async def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": ts,
                   "text": args.get("text", ""), "team": TEAM,
                   "blocks": _json(args.get("blocks"))}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        channel = self.dm_channels.get(str(args["channel"]), args["channel"])
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    async def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"),
                "text": args.get("text", ""),
                "message": {"text": args.get("text", ""), "blocks": _json(args.get("blocks"))}}

    async def _ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    async def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        """https://api.slack.com/methods/files.getUploadURLExternal"""
        length = str(args.get("length", ""))
        if not args.get("filename") or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F0{next(self._file_ids):06d}"
        self.files[file_id] = {"id": file_id, "name": args["filename"], "length": int(length),
                               "data": None, "title": None, "shares": {}}
        assert self.server is not None
        return {"ok": True, "upload_url": str(self.server.make_url(f"/upload/{file_id}")),
                "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: the raw bytes, of the length announced (Slack answers `OK - n`)."""
        found = self.files.get(request.match_info["file_id"])
        data = await request.read()
        if found is None or found["data"] is not None or len(data) != found["length"]:
            return web.Response(status=400, text="invalid upload")
        found["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        """https://api.slack.com/methods/files.completeUploadExternal: shares each uploaded
        file in `channel_id` (in `thread_ts` when given); answers with the files."""
        files = _json(args.get("files"))
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        done = []
        for item in files:
            found = self.files.get(str(item.get("id")))
            if found is None or found["data"] is None:
                return {"ok": False, "error": "file_not_found"}
            done.append((found, item))
        channel, thread_ts = str(args.get("channel_id") or ""), str(args.get("thread_ts") or "")
        for found, item in done:
            found["title"] = item.get("title") or found["name"]
            if channel:
                found["shares"].setdefault(channel, []).append(thread_ts)
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f, _ in done]}

    async def _file_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """https://api.slack.com/methods/files.info: a completed file with its shares
        (`private` for direct messages and private channels, else `public`)."""
        found = self.files.get(str(args.get("file")))
        if found is None or found["title"] is None:
            return {"ok": False, "error": "file_not_found"}
        shares: dict[str, dict[str, Any]] = {}
        for channel, threads in found["shares"].items():
            kind = "private" if channel[:1] in ("D", "G") else "public"
            shares.setdefault(kind, {})[channel] = [
                {"ts": self._next_ts(), "thread_ts": t} for t in threads]
        return {"ok": True, "file": {"id": found["id"], "name": found["name"],
                                     "title": found["title"], "size": found["length"],
                                     "shares": shares}}

    async def _connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        assert self.server is not None
        return {"ok": True, "url": str(self.server.make_url("/link")).replace("http", "ws", 1)}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: `hello`, then each queued envelope; the client acks by envelope_id.

        https://api.slack.com/apis/connections/socket#events
        """
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.add(ws)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A"}})

        async def read_acks() -> None:
            async for frame in ws:
                self.acks.append(json.loads(frame.data))

        reader = asyncio.create_task(read_acks())
        try:
            while not ws.closed:
                try:
                    async with asyncio.timeout(0.1):
                        envelope = await self.envelopes.get()
                except TimeoutError:
                    continue
                await ws.send_json(envelope)
        finally:
            reader.cancel()
            self.sockets.discard(ws)
        return ws


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
