"""An operator's files into the customer's Slack thread, by Slack's external upload flow:
`files.getUploadURLExternal` (name, length) for each file, its bytes POSTed to the returned
URL, then one `files.completeUploadExternal` that shares them all in the channel and thread.

https://api.slack.com/messaging/files#upload

Each step is recorded in the outbox entry (`Outbound.record`) before the next: the ids
about to be completed (`completing`), then the shared ones (`files`). A resend after a
crash or a failure shares nothing twice: shared files are skipped, and files that were
being completed are looked up with `files.info` and completed only if Slack does not show
them in the thread's channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from connectors.slack.webapi import SlackPoster
from gateway.errors import DeliveryError, DeliveryRetryLater, DeliveryUncertain
from gateway.store import Store
from gateway.store.attachments import attachment

#: Seconds the POST of one file's bytes may take (files are bounded by [console] limits).
UPLOAD_TIMEOUT = 60

Record = Callable[[dict[str, Any]], Awaitable[None]]


async def share_files(poster: SlackPoster, store: Store, *, message_id: int,
                      listed: list[dict[str, Any]], channel: str, thread_ts: str,
                      progress: dict[str, Any], record: Record) -> list[dict[str, Any]]:
    """Share the reply's files in `channel`'s thread; return them (`id`, `title`,
    `attachment`), as recorded in the outbox entry."""
    if isinstance(progress.get("files"), list):
        return list(progress["files"])
    completing = progress.get("completing")
    if isinstance(completing, list) and completing:
        if await _shared(poster, [str(f["id"]) for f in completing], channel):
            await record({"files": completing})
            return list(completing)
    else:
        completing = [await _upload(poster, store, message_id, item) for item in listed]
        await record({"completing": completing})
    await poster.call("files_completeUploadExternal",
                      files=[{"id": f["id"], "title": f["title"]} for f in completing],
                      channel_id=channel, thread_ts=thread_ts)
    await record({"files": completing})
    return list(completing)


async def _upload(poster: SlackPoster, store: Store, message_id: int,
                  item: dict[str, Any]) -> dict[str, Any]:
    """One file's bytes to Slack (not shared yet: a file never completed is not shown)."""
    found = await attachment(store, int(item["id"]))
    if found is None or found.data is None or found.meta.message_id != message_id:
        raise DeliveryError(f"attachment {item.get('id')} of the reply is missing")
    name, data = found.meta.filename, found.data
    answer = await poster.call("files_getUploadURLExternal", filename=name, length=len(data))
    url, file_id = str(answer.get("upload_url", "")), str(answer.get("file_id", ""))
    if not url or not file_id:
        raise DeliveryRetryLater("Slack gave no upload URL")
    try:
        async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT)) as session, \
                session.post(url, data=data) as response:
            status = response.status
    except aiohttp.ClientConnectorError as exc:
        raise DeliveryRetryLater(f"cannot connect to Slack's upload URL: {exc}") from exc
    except (TimeoutError, aiohttp.ClientError) as exc:  # not shared yet: safe to upload again
        raise DeliveryRetryLater(f"upload to Slack failed: {type(exc).__name__}") from exc
    if status >= 500 or status == 429:
        raise DeliveryRetryLater(f"Slack's upload URL answered {status}")
    if status != 200:
        raise DeliveryError(f"Slack refused the file {name!r}: HTTP {status}")
    return {"id": file_id, "title": name, "attachment": found.meta.id}


async def _shared(poster: SlackPoster, file_ids: list[str], channel: str) -> bool:
    """Slack already shows every one of these files in `channel` (a completion that went
    through before the crash or timeout)."""
    for file_id in file_ids:
        try:
            answer = await poster.call("files_info", file=file_id)
        except (DeliveryRetryLater, DeliveryUncertain):
            raise
        except DeliveryError:  # file_not_found: never completed, so not shown anywhere
            return False
        shares = answer.get("file", {}).get("shares", {}) if isinstance(answer, dict) else {}
        if not any(channel in (shares.get(kind) or {}) for kind in ("public", "private")):
            return False
    return True

