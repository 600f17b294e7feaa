"""Pure translation between Slack payloads and the gateway's records, tested without network.

Slack in: an Events API `message` / `app_mention` event or a `block_actions` payload becomes
an `Inbound` (or None when the gateway must not answer it). Gateway out: an `Outbound`
becomes the keyword arguments of `chat.postMessage`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connectors.slack import blocks
from gateway.channels import (
    ACTIONS,
    ConversationKey,
    Identity,
    Inbound,
    InboundAttachment,
    Outbound,
)

CHANNEL = "slack"

#: Message subtypes that are a person writing; every other subtype (edits, deletions, joins,
#: bot_message, channel_topic...) is ignored.
#: https://api.slack.com/events/message#subtypes
_PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHOICE = re.compile(r"^choice_(\d{1,2})$")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


def address(channel: str, thread_ts: str) -> str:
    """A Slack thread is one conversation: `<channel>:<thread root ts>`."""
    return f"{channel}:{thread_ts}"


#: The thread of a conversation the company starts has no ts before its first post:
#: `<user id>:new-<token>` until then (the outbox moves it to the posted thread).
NEW_THREAD = "new-"


def split_address(value: str) -> tuple[str, str]:
    """(channel, thread_ts) of a conversation address; no thread_ts for a new thread."""
    channel, _, thread_ts = value.partition(":")
    return channel, "" if thread_ts.startswith(NEW_THREAD) else thread_ts


def message_id(channel: str, ts: str) -> str:
    """`ts` is unique within a channel only, so the channel is part of the id."""
    return f"{channel}:{ts}"


def is_person_message(event: Mapping[str, Any], bot_user_id: str | None = None) -> bool:
    """A message a human typed: not a bot (ours or another), not an edit, join or deletion."""
    if event.get("type") not in ("message", "app_mention"):
        return False
    if event.get("bot_id") or event.get("bot_profile") or event.get("subtype") not in \
            _PERSON_SUBTYPES:
        return False
    user = event.get("user")
    return bool(user) and user != bot_user_id


def to_inbound(event: Mapping[str, Any], bot_user_id: str | None = None,
               event_id: str | None = None) -> Inbound | None:
    """A customer message to the app, or None when the gateway must stay out of it.

    Taken: direct messages (`message.im`), mentions of the app (`app_mention`), and replies
    in a channel thread (the caller only answers those when the thread is already a
    conversation). The sender carries only the Slack user id; the caller adds name and email
    from `users.info`.
    """
    if not is_person_message(event, bot_user_id):
        return None
    channel, ts = event.get("channel"), event.get("ts")
    if not channel or not ts:
        return None
    thread_ts = event.get("thread_ts") or ts
    channel_type = event.get("channel_type")
    if event.get("type") == "app_mention":
        via = "mention"
    elif channel_type == "im":
        via = "dm"
    elif event.get("thread_ts") and event.get("thread_ts") != ts:
        via = "thread"
    else:  # a top-level channel message that does not mention the app
        return None
    text = plain_text(strip_mentions(str(event.get("text") or ""), bot_user_id))
    attachments = tuple(
        InboundAttachment(str(f.get("name") or f.get("title") or "file"),
                          str(f.get("mimetype") or "application/octet-stream"),
                          int(f.get("size") or 0))
        for f in event.get("files") or ())
    if not text:
        if not attachments:
            return None
        text = ", ".join(a.filename for a in attachments)  # a file with no words
    return Inbound(
        key=ConversationKey(CHANNEL, address(channel, thread_ts)),
        sender=Identity(CHANNEL, str(event["user"])),
        text=text,
        channel_message_id=message_id(channel, ts),
        attachments=attachments,
        meta={"slack": {"channel": channel, "ts": ts, "thread_ts": thread_ts, "via": via,
                        "team": event.get("team"), "event_id": event_id}},
    )


def action_to_inbound(body: Mapping[str, Any]) -> Inbound | None:
    """A customer's button press under a bot message (feedback or a clarification choice).

    Feedback travels as `meta["action"]`; a choice as its number in the text, the way a
    customer would type it. One press per button and message counts: a double click is the
    same `channel_message_id`.
    """
    if body.get("type") != "block_actions" or not body.get("actions"):
        return None
    action = body["actions"][0]
    action_id = str(action.get("action_id", ""))
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message_ts = container.get("message_ts") or message.get("ts")
    user = (body.get("user") or {}).get("id")
    if not channel or not message_ts or not user:
        return None
    thread_ts = container.get("thread_ts") or message.get("thread_ts") or message_ts
    label = str((action.get("text") or {}).get("text", ""))
    meta: dict[str, Any] = {"slack": {"channel": channel, "ts": message_ts,
                                      "thread_ts": thread_ts, "via": "button"}}
    choice = _CHOICE.match(action_id)
    if action_id in ACTIONS:
        text = label or action_id
        meta["action"] = action_id
    elif choice:
        text = choice.group(1)
    else:
        return None
    return Inbound(
        key=ConversationKey(CHANNEL, address(channel, thread_ts)),
        sender=Identity(CHANNEL, str(user), str(body["user"].get("name") or "")),
        text=text,
        channel_message_id=f"{message_id(channel, message_ts)}:{action_id}",
        meta=meta,
    )


def strip_mentions(text: str, bot_user_id: str | None) -> str:
    """Drop the app's own @-mention ("@Helpdesk how long...") and surrounding blanks."""
    if bot_user_id:
        text = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), text)
    else:  # unknown bot id: only a leading mention is addressed to us
        text = re.sub(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>", "", text)
    return text.strip()


def plain_text(slack_text: str) -> str:
    """What a person typed, without Slack's markup: links as "label (url)", entities decoded.

    https://api.slack.com/reference/surfaces/formatting#retrieving-messages
    """
    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        target = url.removeprefix("mailto:")
        return target if not label or label in url else f"{label} ({target})"

    text = _LINK.sub(link, slack_text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def to_chat_post(outbound: Outbound) -> dict[str, Any]:
    """`chat.postMessage` arguments: in the conversation's thread, Block Kit with a fallback.

    `text` is always set: it is what notifications and screen readers show.
    https://api.slack.com/methods/chat.postMessage#arg_text
    """
    channel, thread_ts = split_address(outbound.key.address)
    meta, language = outbound.meta, outbound.meta.get("language")
    if outbound.kind == "answer":
        message_blocks = blocks.answer(outbound.text, language)
    elif outbound.kind == "clarify" and meta.get("titles"):
        message_blocks = blocks.clarify(outbound.text, list(meta["titles"]),
                                        str(meta.get("none_label", "")))
    elif outbound.kind == "slot" and meta.get("choices"):
        message_blocks = blocks.choices(outbound.text, [str(c) for c in meta["choices"]])
    elif outbound.kind == "survey" and isinstance(meta.get("survey"), dict):
        message_blocks = blocks.survey(outbound.text, meta["survey"])
    elif outbound.author == "operator":
        message_blocks = blocks.operator_reply(outbound.text, str(meta.get("operator", "")))
    else:
        message_blocks = blocks.plain(outbound.text)
    post: dict[str, Any] = {"channel": channel, "text": blocks.fallback(outbound.text),
                            "blocks": message_blocks}
    if thread_ts:
        post["thread_ts"] = thread_ts
    return post
